/** The command line's console logging, configured in code at start-up (no XML parsing). */
package dev.sluice.cli.logging;
