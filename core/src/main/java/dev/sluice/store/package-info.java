/**
 * Where bucket state lives: the {@link dev.sluice.store.Store} SPI and the bounded in-memory store.
 */
package dev.sluice.store;
