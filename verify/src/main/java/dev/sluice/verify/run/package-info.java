/** Runs a verify plan against a live target over HTTP/1.1 and judges each answer. */
package dev.sluice.verify.run;
