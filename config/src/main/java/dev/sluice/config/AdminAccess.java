package dev.sluice.config;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Who may talk to the admin API besides what the token decides ({@code gateway.admin_hosts},
 * {@code gateway.admin_insecure}).
 *
 * @param insecure {@code gateway.admin_insecure: true}: the operator accepts an admin listener
 *     beyond loopback without a token (refused otherwise; warned about loudly when accepted)
 * @param hosts extra names the admin API answers to in {@code Host} (and {@code Origin}), lower
 *     case, each {@code name} (any port) or {@code name:port}; the listener's own address, and
 *     {@code localhost} on a loopback listener, are always accepted
 * @param tokenWritten whether the file names {@code admin_token_env} (whether or not the variable
 *     is set where the file is checked): judged instead of the token itself so {@code check}
 *     decides like {@code serve} without the secret
 */
public record AdminAccess(boolean insecure, List<String> hosts, boolean tokenWritten) {

  /** The default: loopback or a token required; only the listener's own address as {@code Host}. */
  public static final AdminAccess DEFAULT = new AdminAccess(false, List.of(), false);

  public AdminAccess {
    Objects.requireNonNull(hosts, "hosts");
    hosts = hosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
  }
}
