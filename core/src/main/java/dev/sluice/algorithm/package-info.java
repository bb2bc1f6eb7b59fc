/** The rate-limiting algorithms as pure step functions over explicit state and time. */
package dev.sluice.algorithm;
