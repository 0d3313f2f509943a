#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/sds
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# sds is compiled into main (unchanged); -rdynamic exports normalize_tags and the
# sds API to patch.so.
run_cc $MAIN_CFLAGS main.c tags.c upstream/sds.c $COMMON_SOURCES -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

assert_hotfix_target "$OUT/main" "$OUT/patch.so" normalize_tags normalize_tags_fixed
assert_imports "$OUT/main" malloc realloc free __vsnprintf_chk __ctype_tolower_loc memmove
echo "  needed: $(needed_libs "$OUT/main")"
show_func "$OUT/main" normalize_tags
