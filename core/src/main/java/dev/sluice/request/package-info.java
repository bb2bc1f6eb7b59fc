/** The engine's read-only view of an HTTP request, independent of any server library. */
package dev.sluice.request;
