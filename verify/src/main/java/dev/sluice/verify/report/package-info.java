/** Prints verify results: a text report for people and CI logs, and JUnit XML for CI tools. */
package dev.sluice.verify.report;
