package dev.sluice.config;

/** Where buckets live ({@code store.type}). */
public enum StoreType {
  /** Embedded, bounded by {@code store.max_keys}; one gateway instance. */
  MEMORY("memory"),
  /** Shared by any number of gateway instances (Redis 6+/7, Valkey, Redis Cluster). */
  REDIS("redis");

  private final String configName;

  StoreType(String configName) {
    this.configName = configName;
  }

  /** The name used in the policy file. */
  public String configName() {
    return configName;
  }
}
