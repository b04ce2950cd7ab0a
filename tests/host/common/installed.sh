# SPDX-License-Identifier: MIT
# Sourced by tests/host/install_test.sh and examples_test.sh: installs the
# built tree into a fresh staging directory (DESTDIR, PREFIX=/usr) and points
# pkg-config, the compiler driver and the loader at that copy only:
# PKG_CONFIG_LIBDIR replaces pkg-config's search path (no system or build-tree
# capmem.pc), PKG_CONFIG_SYSROOT_DIR prefixes the paths capmem.pc names,
# LD_LIBRARY_PATH finds the installed libcapmem.so.0. Sets $here (the tree),
# $dest (the staging root), $install_log; install_copy returns make's status.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# Not make's children here: a jobserver or options inherited from `make test`
# must not reach the make runs below.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

# install_copy DIR: make install into DIR (created), with PREFIX=/usr.
install_copy() {
    dest=$1
    mkdir -p "$dest"
    install_log=$(make -C "$here" --no-print-directory install DESTDIR="$dest" PREFIX=/usr 2>&1)
}

use_installed_copy() {
    export PKG_CONFIG_LIBDIR="$dest/usr/lib/pkgconfig"
    export PKG_CONFIG_SYSROOT_DIR="$dest"
    unset PKG_CONFIG_PATH
    export LD_LIBRARY_PATH="$dest/usr/lib"
}

# libcapmem_from BINARY: the path the loader resolves libcapmem.so.0 to.
libcapmem_from() {
    ldd "$1" 2>/dev/null | awk '$1 ~ /^libcapmem\.so/ {print $3}'
}
