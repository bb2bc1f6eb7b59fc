package dev.sluice.gateway.admin;

/**
 * What the admin listener learns after it started: the config API (set once the reloader exists)
 * and whether the gateway is draining (SIGTERM: {@code /readyz} answers 503 at once).
 */
final class AdminHooks {
  volatile ConfigApi config;
  volatile boolean draining;
  volatile dev.sluice.gateway.live.LiveApi live;
}
