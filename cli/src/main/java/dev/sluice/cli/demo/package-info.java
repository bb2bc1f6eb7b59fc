/**
 * The small HTTP API that {@code sluice demo} puts behind the gateway, so the demo needs nothing
 * installed. Built on the JDK's {@code com.sun.net.httpserver}; not for production use.
 */
package dev.sluice.cli.demo;
