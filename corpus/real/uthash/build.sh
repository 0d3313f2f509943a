#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/uthash
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# uthash is header-only (macros expanded into main and patch.so); -rdynamic exports
# count_words.
run_cc $MAIN_CFLAGS main.c words.c $COMMON_SOURCES -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

assert_hotfix_target "$OUT/main" "$OUT/patch.so" count_words count_words_fixed
assert_imports "$OUT/main" __ctype_b_loc calloc free memcmp
assert_imports "$OUT/patch.so" __ctype_b_loc __ctype_tolower_loc calloc
echo "  needed: $(needed_libs "$OUT/main")"
show_func "$OUT/main" count_words
