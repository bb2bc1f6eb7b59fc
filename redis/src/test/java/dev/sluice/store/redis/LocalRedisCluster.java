package dev.sluice.store.redis;

import dev.sluice.testkit.Executables;
import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.ManagedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away 3-master Redis Cluster on free 127.0.0.1 ports (optionally one replica per master;
 * no persistence), built with {@code redis-cli --cluster create}. Test-only; stops its processes
 * by PID.
 */
final class LocalRedisCluster implements AutoCloseable {

  /** Redis Cluster's bus listens on the node's port plus this, fixed by Redis. */
  private static final int CLUSTER_BUS_OFFSET = 10000;

  private final List<Integer> ports = new ArrayList<>();
  private final List<ManagedProcess> nodes = new ArrayList<>();
  private final Path redisCli;
  /** redis-cli's TLS options ({@code --tls --cacert CA}) for a TLS cluster; empty otherwise. */
  private final List<String> cliTls;

  private LocalRedisCluster(Path redisCli, List<String> cliTls) {
    this.redisCli = redisCli;
    this.cliTls = cliTls;
  }

  static LocalRedisCluster start() {
    return start(0);
  }

  static LocalRedisCluster start(int replicasPerMaster) {
    return start(replicasPerMaster, null, null, null);
  }

  /**
   * A 3-master cluster that speaks TLS only ({@code --port 0}, {@code --tls-cluster yes}): clients,
   * the cluster bus and {@code redis-cli} all use the TLS ports, which the nodes announce.
   */
  static LocalRedisCluster startTls(Path cert, Path key, Path ca) {
    return start(0, cert, key, ca);
  }

  private static LocalRedisCluster start(int replicasPerMaster, Path cert, Path key, Path ca) {
    Path server = Executables.require("redis-server", "redis-server", "/usr/bin/redis-server");
    Path cli = Executables.require("redis-cli", "redis-tools", "/usr/bin/redis-cli");
    boolean tls = cert != null;
    LocalRedisCluster cluster = new LocalRedisCluster(cli,
        tls ? List.of("--tls", "--cacert", ca.toString()) : List.of());
    try {
      Path dir = Files.createTempDirectory("sluice-redis-cluster-");
      for (int i = 0; i < 3 * (1 + replicasPerMaster); i++) {
        int port = FreePort.findWithCompanion(CLUSTER_BUS_OFFSET);
        cluster.ports.add(port);
        List<String> args = new ArrayList<>(List.of(
                server.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", dir.resolve("nodes-" + port + ".conf").toString(),
                "--cluster-node-timeout", "2000",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--daemonize", "no"));
        if (tls) {
          args.set(2, "0");
          args.addAll(List.of("--tls-port", Integer.toString(port), "--tls-cert-file", cert.toString(),
              "--tls-key-file", key.toString(), "--tls-ca-cert-file", ca.toString(),
              "--tls-auth-clients", "no", "--tls-cluster", "yes", "--tls-replication", "yes"));
        }
        cluster.nodes.add(ManagedProcess.builder("redis-cluster-" + port, args)
            .readyWhenPortOpen(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
            .startupTimeout(Duration.ofSeconds(15))
            .start());
      }
      List<String> create = new ArrayList<>(List.of(cli.toString()));
      create.addAll(cluster.cliTls);
      create.addAll(List.of("--cluster", "create"));
      cluster.ports.forEach(p -> create.add("127.0.0.1:" + p));
      create.addAll(List.of("--cluster-replicas", Integer.toString(replicasPerMaster), "--cluster-yes"));
      String output = run(create);
      if (!output.contains("All 16384 slots covered")) {
        throw new IllegalStateException("redis-cli --cluster create failed:\n" + output);
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      for (int port : cluster.ports) {
        while (!cluster.cli(port, "CLUSTER", "INFO").contains("cluster_state:ok")) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("cluster node " + port + " never reached cluster_state:ok");
          }
          Thread.onSpinWait();
        }
      }
      return cluster;
    } catch (IOException e) {
      cluster.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      cluster.close();
      throw e;
    }
  }

  List<URI> uris() {
    String scheme = cliTls.isEmpty() ? "redis" : "rediss";
    return ports.stream().map(p -> URI.create(scheme + "://127.0.0.1:" + p)).toList();
  }

  List<Integer> ports() {
    return ports;
  }

  /** The port of a node that is a replica right now, and of its master. */
  int[] someReplicaAndItsMaster() {
    for (int port : ports) {
      String info = cli(port, "INFO", "replication");
      if (info.contains("role:slave")) {
        String masterPort = info.lines().filter(l -> l.startsWith("master_port:")).findFirst()
            .orElseThrow().substring("master_port:".length()).trim();
        return new int[] {port, Integer.parseInt(masterPort)};
      }
    }
    throw new IllegalStateException("no replica in cluster " + ports);
  }

  /** Runs one command on one node with redis-cli, returning its raw output. */
  String cli(int port, String... command) {
    List<String> args = new ArrayList<>(List.of(redisCli.toString()));
    args.addAll(cliTls);
    args.addAll(List.of("-h", "127.0.0.1", "-p", Integer.toString(port)));
    args.addAll(List.of(command));
    return run(args);
  }

  private static String run(List<String> command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      process.getOutputStream().close();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish in 30 s");
      }
      return output;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + command.get(0), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + command, e);
    }
  }

  @Override
  public void close() {
    for (ManagedProcess node : nodes) {
      node.stop();
    }
  }
}
