/**
 * Access log readers: Sluice's own {@code access_log} (JSON lines), nginx/Apache combined, and JSON
 * lines with configurable field names. Streamed one line at a time; a malformed line is counted and
 * reported with its line number, never fatal.
 */
package dev.sluice.analysis.logs;
