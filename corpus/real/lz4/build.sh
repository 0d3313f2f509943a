#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/lz4
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# The upstream library as its own shared object next to main (soname liblz4.so.1, as
# upstream's Makefile names it), built with the patch.so flags; main finds it through
# RUNPATH $ORIGIN, before the system's liblz4.so.1 (another version).
run_cc $PATCH_CFLAGS upstream/lz4.c -shared -Wl,-soname,liblz4.so.1 $LINK_HARDENING -o "$OUT/liblz4.so.1"
run_cc $MAIN_CFLAGS main.c codec.c $COMMON_SOURCES -rdynamic "$OUT/liblz4.so.1" '-Wl,-rpath,$ORIGIN' $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

assert_hotfix_target "$OUT/main" "$OUT/patch.so" pack_block pack_block_fixed
readelf -d -W "$OUT/main" | grep -F '(RUNPATH)' | grep -F '[$ORIGIN]' >/dev/null || fail "main has no RUNPATH \$ORIGIN"
needed=$(needed_libs "$OUT/main")
case " $needed " in *" liblz4.so.1 "*) ;; *) fail "main does not need liblz4.so.1 ($needed)" ;; esac
readelf -d -W "$OUT/liblz4.so.1" | grep -F '(SONAME)' | grep -F '[liblz4.so.1]' >/dev/null || fail "liblz4.so.1 has another soname"
dynsym_exports "$OUT/liblz4.so.1" LZ4_compress_default || fail "liblz4.so.1 does not export LZ4_compress_default"
nm -D --undefined-only "$OUT/main" | grep -w LZ4_compress_default >/dev/null || fail "main does not import LZ4_compress_default"
echo "  asserted: main needs $needed, with RUNPATH \$ORIGIN; liblz4.so.1 (soname liblz4.so.1) exports the LZ4 API main imports"
show_func "$OUT/main" pack_block
