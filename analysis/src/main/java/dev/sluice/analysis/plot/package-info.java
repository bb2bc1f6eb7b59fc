/** {@code sluice tune --plot}: demand distributions drawn with JFreeChart (headless AWT). */
package dev.sluice.analysis.plot;
