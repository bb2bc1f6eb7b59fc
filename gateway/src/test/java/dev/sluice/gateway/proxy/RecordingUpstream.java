package dev.sluice.gateway.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An upstream that never answers and records, per connection, every byte the gateway sent and how
 * the gateway ended the connection: a close ({@code FIN}, the stream ended) or an abort
 * ({@code RST}, the read failed with "connection reset"). It shows what a real server would have
 * read, below any HTTP parser.
 */
final class RecordingUpstream implements AutoCloseable {

  /** One upstream connection as seen by the server. */
  static final class Connection {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private volatile String end; // null while open, "fin" or "reset"

    synchronized String text() {
      return bytes.toString(StandardCharsets.ISO_8859_1);
    }

    private synchronized void add(byte[] data, int length) {
      bytes.write(data, 0, length);
    }

    /** {@code null} while open; {@code "fin"} or {@code "reset"} once ended. */
    String end() {
      return end;
    }
  }

  private final ServerSocket server;
  private final List<Connection> connections = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  RecordingUpstream() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor = new Thread(this::accept, "recording-upstream");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  List<Connection> connections() {
    return List.copyOf(connections);
  }

  /** Waits until some connection's bytes contain {@code text}; returns that connection. */
  Connection awaitReceived(String text, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (Connection c : connections) {
        if (c.text().contains(text)) {
          return c;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the upstream never received " + text + "; got " + connections.stream().map(Connection::text).toList());
  }

  /** Waits until the connection has ended; returns how. */
  static String awaitEnd(Connection c, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (c.end == null && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    if (c.end == null) {
      throw new AssertionError("the upstream connection is still open after " + timeout);
    }
    return c.end;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        Connection c = new Connection();
        connections.add(c);
        Thread reader = new Thread(() -> read(socket, c), "recording-upstream-read");
        reader.setDaemon(true);
        reader.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private static void read(Socket socket, Connection c) {
    try (socket; InputStream in = socket.getInputStream()) {
      byte[] buffer = new byte[8192];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        c.add(buffer, n);
      }
      c.end = "fin";
    } catch (SocketException e) {
      c.end = "reset";
    } catch (IOException e) {
      c.end = "error: " + e;
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
