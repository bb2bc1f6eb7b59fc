/**
 * {@code sluice verify --scenarios}: bounded abuse and load scenarios against a target, reported
 * as what reached the upstream (every request Sluice did not refuse) with a verdict against the
 * policy file.
 */
package dev.sluice.verify.scenarios;
