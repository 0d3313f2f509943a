#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/cjson
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# cJSON is compiled into main (unchanged, with the corpus flags); -rdynamic exports
# order_total and the cJSON API to patch.so.
run_cc $MAIN_CFLAGS main.c orders.c upstream/cJSON.c $COMMON_SOURCES -rdynamic $MAIN_LDFLAGS -lm -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

assert_hotfix_target "$OUT/main" "$OUT/patch.so" order_total order_total_fixed
assert_imports "$OUT/main" __isoc99_sscanf strtod __printf_chk malloc free
echo "  needed: $(needed_libs "$OUT/main")"
show_func "$OUT/main" order_total
