#!/bin/sh
# Builds the Sluice release tarball (unless given one), installs it into PREFIX and checks that the
# installation runs. The container image's build stage (Dockerfile) and the tarball test
# (dist/src/test/.../TarballTest) both run this script, so what the image gets is what is tested.
#
#   packaging/release.sh PREFIX                   # mvn package (tarball only), then install
#   packaging/release.sh --tarball FILE PREFIX    # install a tarball already built
set -eu

cd "$(dirname "$0")/.."
tarball=""
if [ "${1:-}" = "--tarball" ]; then
  tarball=$2
  shift 2
fi
if [ $# -ne 1 ]; then
  echo "usage: packaging/release.sh [--tarball FILE] PREFIX" >&2
  exit 2
fi
prefix=$1

if [ -z "$tarball" ]; then
  mvn -B -ntp -DskipTests -Dsluice.deb.skip=true -pl dist -am package
  set -- dist/target/sluice-*.tar.gz
  tarball=$1
fi

mkdir -p "$prefix"
tar -xzf "$tarball" -C "$prefix" --strip-components=1 --no-same-owner
"$prefix/bin/sluice" --version
"$prefix/bin/sluice" check -c "$prefix/conf/sluice.yaml" >/dev/null
echo "sluice installed in $prefix"
