/**
 * The Netty floor: the cheapest Netty servers doing the gateway's two jobs in the load bench (a
 * constant 429 to a flood; a keep-alive reverse proxy to a static upstream) with no rate limiting,
 * run by {@code bench/run.sh --floor} beside nginx and Sluice. What no Netty gateway on the same
 * machine can beat: {@code docs/benchmarks.md} §2.
 */
package dev.sluice.benchmarks.floor;
