/** A limit ({@code N/period burst B}) and its grammar. */
package dev.sluice.limit;
