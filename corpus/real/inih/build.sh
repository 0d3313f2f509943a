#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/inih
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# inih is compiled into main (unchanged, its default options); -rdynamic exports
# on_setting. inih calls it through the handler pointer.
run_cc $MAIN_CFLAGS main.c settings.c upstream/ini.c $COMMON_SOURCES -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

assert_hotfix_target "$OUT/main" "$OUT/patch.so" on_setting on_setting_fixed
func_insns "$OUT/main" main | grep -E 'lea .*<on_setting>' >/dev/null || fail "main does not pass on_setting's address"
echo "  asserted: main passes &on_setting to ini_parse_string (an indirect call from inih)"
assert_imports "$OUT/main" strtol __ctype_b_loc strchr strcmp
echo "  needed: $(needed_libs "$OUT/main")"
show_func "$OUT/main" on_setting
