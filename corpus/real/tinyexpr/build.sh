#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/tinyexpr
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# tinyexpr is compiled into main (unchanged); its built-in functions are libm's.
# -rdynamic exports lerp.
run_cc $MAIN_CFLAGS main.c curves.c upstream/tinyexpr.c $COMMON_SOURCES -rdynamic $MAIN_LDFLAGS -lm -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

assert_hotfix_target "$OUT/main" "$OUT/patch.so" lerp lerp_fixed
assert_imports "$OUT/main" strtod pow sqrt floor fmod
echo "  needed: $(needed_libs "$OUT/main")"
show_func "$OUT/main" lerp
