#!/usr/bin/env bash
# Installs the Debian 12 packages cpgo needs, only those missing.
set -eu
pkgs="make gcc pkg-config libprotobuf-c-dev protobuf-c-compiler libdeflate-dev
libdw-dev libelf-dev libunwind-dev libmicrohttpd-dev libcurl4-openssl-dev nettle-dev
clang-19 llvm-19 llvm-19-tools libclang-rt-19-dev libcmocka-dev golang-go
valgrind hyperfine linux-perf binutils curl dpkg-dev libgoogle-perftools4 lld-19 bolt-19
libc6-dev-arm64-cross ccache autoconf cmake"
# ccache, autoconf, cmake: the cpgo cc tests run ccache in front of and behind it,
# an autoconf configure script and CMake's try-compiles (t3101, t3102).
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "cpgo: installing Debian packages:$missing" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
