/**
 * Tests of what {@code mvn package} ships: the release tarball, the Debian package, its systemd
 * units and the container files, run with the real tools (tar, dpkg, dpkg-deb, systemd-analyze)
 * as separate processes. They run in the integration-test phase, after both artifacts exist.
 */
package dev.sluice.dist;
