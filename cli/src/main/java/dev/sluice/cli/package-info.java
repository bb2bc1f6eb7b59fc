/**
 * The {@code sluice} command line: {@code serve} (the gateway), {@code check} (validate a policy
 * file and print its policy matrix) and {@code demo} (zero-setup gateway in front of a sample API).
 */
package dev.sluice.cli;
