#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make install as a distribution or a user runs it, checked from the
# installed copy only: `make install DESTDIR=tmp PREFIX=/usr`, then the file
# list, the shared library's SONAME and symlinks, the symbol map against the
# installed headers, capmem.pc, and a C and a C++ program built with
# `pkg-config capmem` (dynamic and static) that must compile with the
# installed headers, link and load the installed library, and run; then
# make uninstall, and the directory variables. Prints TAP.
set -u
source "$(dirname "$0")/common/installed.sh"

n=0
failed=0
result() { # result OK NAME [DIAGNOSTIC]
    n=$((n+1))
    if [[ $1 == 1 ]]; then echo "ok $n - $2"; return 0; fi
    echo "not ok $n - $2"
    failed=1
    [[ -n "${3:-}" ]] && sed 's/^/#   /' <<<"$3"
    return 0
}

work=$(mktemp -d "${TMPDIR:-/tmp}/cm-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "1..12"

version=$(awk '/^#define CAPMEM_VERSION_(MAJOR|MINOR|PATCH) /{v = v s $3; s = "."} END {print v}' \
          "$here/include/capmem/version.h")
major=${version%%.*}

# 1. the install itself and exactly the expected files.
ok=0
if install_copy "$work/root"; then
    got=$(cd "$dest" && find . \( -type f -o -type l \) | sort)
    want=$( (cd "$here/include" && ls capmem/*.h | sed 's|^|./usr/include/|')
            printf '%s\n' ./usr/bin/capmem ./usr/lib/libcapmem.a ./usr/lib/libcapmem.so \
                ./usr/lib/libcapmem.so."$major" ./usr/lib/libcapmem.so."$version" \
                ./usr/lib/pkgconfig/capmem.pc
            [[ -d "$here/build/man" ]] && (cd "$here/build" && find man/man1 man/man3 man/man7 -type f 2>/dev/null |
                sed 's|^|./usr/share/|') )
    want=$(sort <<<"$want")
    [[ "$got" == "$want" ]] && ok=1
    result $ok test_install_destdir_prefix_usr_writes_headers_libs_cli_pc \
        "$(diff <(echo "$want") <(echo "$got"))"
else
    result 0 test_install_destdir_prefix_usr_writes_headers_libs_cli_pc "$install_log"
fi
lib=$dest/usr/lib

# 2. libcapmem.so -> .so.MAJOR -> .so.MAJOR.MINOR.PATCH, SONAME .so.MAJOR.
soname=$(readelf -d "$lib/libcapmem.so.$version" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
ok=0
[[ "$soname" == "libcapmem.so.$major" && "$(readlink "$lib/libcapmem.so")" == "libcapmem.so.$major" &&
   "$(readlink "$lib/libcapmem.so.$major")" == "libcapmem.so.$version" ]] && ok=1
result $ok test_shared_library_soname_and_symlinks_follow_version_h \
    "version.h $version, SONAME '$soname'"

# 3. capmem.pc: installed prefix, no build-tree path, version.h's version,
#    and Libs.private naming exactly what the library itself needs
#    (DT_NEEDED, less libc and the loader): no -lcrypto.
pc=$lib/pkgconfig/capmem.pc
needed=$(readelf -d "$lib/libcapmem.so.$version" | sed -n 's/.*(NEEDED).*\[lib\(.*\)\.so.*\]/-l\1/p' |
         grep -v -e '^-lc$' -e '^-lld-linux' | sort)
private=$(sed -n 's/^Libs.private: //p' "$pc" | tr ' ' '\n' | grep -v -e '^$' -e '^-lpthread$' | sort)
ok=0
grep -qx 'prefix=/usr' "$pc" && ! grep -q -e "$here" -e crypto "$pc" &&
    grep -qx "Version: $version" "$pc" && [[ "$needed" == "$private" ]] && ok=1
result $ok test_pc_names_installed_prefix_and_only_real_dependencies \
    "$(cat "$pc"; echo "DT_NEEDED: $needed")"

# 4. every function the installed headers declare is exported (symbol map).
cat >"$work/all.c" <<'C'
#include <capmem/capmem.h>
#include <capmem/host.h>
#include <capmem/host_dma.h>
C
missing=""
if gcc -std=gnu11 -I"$dest/usr/include" -aux-info "$work/aux" -c "$work/all.c" -o "$work/all.o"; then
    exported=$(nm -D --defined-only "$lib/libcapmem.so.$version" | awk '{print $3}' | sed 's/@.*//')
    declared=$(grep -F "$dest/usr/include/capmem/" "$work/aux" | grep -v '\bstatic\b' |
               grep -o '\bcm_[a-z0-9_]* (' | tr -d ' (' | sort -u)
    for f in $declared; do grep -qx "$f" <<<"$exported" || missing="$missing $f"; done
    ok=0; [[ -n "$declared" && -z "$missing" ]] && ok=1
    result $ok test_every_declared_function_is_exported_by_the_so \
        "$(wc -w <<<"$declared") declared; not exported:${missing:- none}"
else
    result 0 test_every_declared_function_is_exported_by_the_so "aux-info failed"
fi

# 5. each public header compiles on its own, as C11 and as C++17, pedantic.
bad=""
for h in "$dest"/usr/include/capmem/*.h; do
    name=capmem/${h##*/}
    printf '#include <%s>\nint header_check;\n' "$name" >"$work/one.c"
    cp "$work/one.c" "$work/one.cpp"
    gcc -std=c11 -Wall -Wextra -Werror -pedantic -I"$dest/usr/include" -c "$work/one.c" \
        -o /dev/null 2>>"$work/hdr.log" || bad="$bad C:$name"
    g++ -std=c++17 -Wall -Wextra -Werror -pedantic -I"$dest/usr/include" -c "$work/one.cpp" \
        -o /dev/null 2>>"$work/hdr.log" || bad="$bad C++:$name"
done
ok=0; [[ -z "$bad" ]] && ok=1
result $ok test_each_installed_header_compiles_alone_as_c11_and_cxx17 \
    "${bad:+failed:$bad}$(head -20 "$work/hdr.log")"

use_installed_copy
cflags=$(pkg-config --cflags capmem)
libs=$(pkg-config --libs capmem)

# 6. pkg-config answers from the staging copy only.
ok=0
[[ "$cflags" == *"$dest/usr/include"* && "$libs" == *"-L$dest/usr/lib"* &&
   "$cflags $libs" != *"$here"* ]] && ok=1
result $ok test_pkg_config_points_into_destdir_only "cflags: $cflags; libs: $libs"

# built_from_install BINARY DEPFILE LINKTRACE: the headers it was compiled
# with and the libcapmem it was linked with and loads all lie in $dest.
built_from_install() {
    local hdrs others
    hdrs=$(tr ' \\' '\n\n' <"$2" | grep 'capmem/' | sort -u)
    others=$(grep -v "^$dest/" <<<"$hdrs")
    [[ -n "$hdrs" && -z "$others" ]] || { echo "headers outside DESTDIR: $others"; return 1; }
    grep 'libcapmem' "$3" | grep -qv "^$dest/" && { echo "linked: $(grep libcapmem "$3")"; return 1; }
    [[ "$(libcapmem_from "$1")" == "$dest/usr/lib/libcapmem.so.$major" ]] ||
        { echo "loads: $(libcapmem_from "$1")"; return 1; }
    return 0
}

# 7. a C program: version check, a sealed VMO, through pkg-config.
cat >"$work/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <capmem/capmem.h>
#include <capmem/host.h>
int main(void)
{
    cm_handle_t v;
    cm_vmo_info_t info;
    if (strcmp(cm_version(), CAPMEM_VERSION) != 0)
        return 3;
    if (cm_vmo_create(4096, 0, &v) != CM_OK || cm_vmo_write(v, "capmem", 0, 6) != CM_OK ||
        cm_vmo_seal(v, CM_SEAL_IMMUTABLE) != CM_OK || cm_vmo_get_info(v, &info) != CM_OK ||
        !(info.flags & CM_VMO_INFO_IMMUTABLE) || cm_handle_close(v) != CM_OK)
        return 4;
    printf("capmem %s from C: sealed VMO ok\n", cm_version());
    return cm_host_live_handles() == 0 ? 0 : 5;
}
C
out=$(cd "$work" && gcc -Wall -Wextra -Werror -MD -MF prog.d $cflags -o prog prog.c \
      -Wl,--trace $libs 2>&1 >trace.c.log && grep -F "$dest" trace.c.log >/dev/null &&
      built_from_install prog prog.d trace.c.log && ./prog 2>&1)
rc=$?
ok=0; [[ $rc == 0 && "$out" == "capmem $version from C: sealed VMO ok" ]] && ok=1
result $ok test_c_program_built_with_pkg_config_runs_on_installed_copy "$out"

# 8. the C++ test program (tests/cxx/share.cpp) against the installed copy.
cp "$here/tests/cxx/share.cpp" "$work/share.cpp"
out=$(cd "$work" && g++ -std=c++17 -Wall -Wextra -Werror -pedantic -MD -MF share.d $cflags \
      -o share share.cpp -Wl,--trace $libs 2>&1 >trace.cxx.log &&
      built_from_install share share.d trace.cxx.log && ./share 2>&1)
rc=$?
ok=0; [[ $rc == 0 ]] && grep -q '^ok 14 ' <<<"$out" && ! grep -q '^not ok' <<<"$out" && ok=1
result $ok test_cxx_program_built_with_pkg_config_runs_on_installed_copy "$out"

# 9. static: libcapmem.a plus Libs.private link and run, no libcapmem.so loaded.
slibs=$(pkg-config --static --libs capmem | sed 's/-lcapmem\b//')
out=$(cd "$work" && gcc -Wall -Wextra -Werror $cflags -o sprog prog.c "$dest/usr/lib/libcapmem.a" \
      $slibs 2>&1 && [[ -z "$(libcapmem_from sprog)" ]] && ./sprog 2>&1)
rc=$?
ok=0; [[ $rc == 0 ]] && ok=1
result $ok test_static_link_with_libs_private_runs "libs: $slibs; $out"

# 10. the installed CLI runs (statically linked to libcapmem).
out=$("$dest/usr/bin/capmem" 2>&1 </dev/null)
rc=$?
ok=0; [[ $rc -ne 0 && $rc -ne 127 && $rc -lt 128 && -n "$out" ]] && ok=1
result $ok test_installed_cli_starts_and_prints_usage "rc=$rc: $(head -3 <<<"$out")"

# 11. uninstall leaves no file behind.
unset LD_LIBRARY_PATH
make -C "$here" --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr >"$work/un.log" 2>&1
left=$(find "$dest" \( -type f -o -type l \))
ok=0; [[ -z "$left" ]] && ok=1
result $ok test_uninstall_removes_every_installed_file "$left$(cat "$work/un.log")"

# 12. LIBDIR, INCLUDEDIR and BINDIR are honoured, in the files and in the .pc.
d2=$work/root2
make -C "$here" --no-print-directory install DESTDIR="$d2" PREFIX=/opt/cm LIBDIR=/opt/cm/lib64 \
    INCLUDEDIR=/opt/cm/inc BINDIR=/opt/cm/sbin >"$work/i2.log" 2>&1
pc2=$d2/opt/cm/lib64/pkgconfig/capmem.pc
ok=0
[[ -f "$d2/opt/cm/inc/capmem/capmem.h" && -x "$d2/opt/cm/sbin/capmem" &&
   -L "$d2/opt/cm/lib64/libcapmem.so" && -f "$d2/opt/cm/lib64/libcapmem.a" ]] &&
    grep -qx 'libdir=/opt/cm/lib64' "$pc2" && grep -qx 'includedir=/opt/cm/inc' "$pc2" && ok=1
result $ok test_install_honours_libdir_includedir_bindir \
    "$(cd "$d2" && find . -type f -o -type l | sort | head -30; cat "$pc2" 2>/dev/null)"
exit $failed
