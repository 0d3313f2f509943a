#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/lua
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# Lua's core and standard libraries, as upstream's onelua.c amalgamates them
# (MAKE_LIB: no stand-alone interpreter), with its POSIX features. -rdynamic exports
# host_discount and the Lua C API to patch.so.
run_cc $MAIN_CFLAGS -DMAKE_LIB -DLUA_USE_POSIX -c upstream/onelua.c -o "$OUT/onelua.o"
run_cc $MAIN_CFLAGS main.c host.c "$OUT/onelua.o" $COMMON_SOURCES -rdynamic $MAIN_LDFLAGS -lm -o "$OUT/main"
rm "$OUT/onelua.o"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

assert_hotfix_target "$OUT/main" "$OUT/patch.so" host_discount host_discount_fixed
# The interpreter's protected calls are _setjmp/longjmp (fortified); numbers go through
# strtod, localeconv and libm.
assert_imports "$OUT/main" _setjmp __longjmp_chk strtod localeconv __ctype_b_loc fmod pow
echo "  needed: $(needed_libs "$OUT/main")"
show_func "$OUT/main" host_discount
