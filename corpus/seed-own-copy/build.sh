#!/usr/bin/env bash
# Same sources as seed-classic; only the link lines differ (that is the bug).
set -euo pipefail
SCENARIO=seed-own-copy
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
SRC=../seed-classic

# No -rdynamic: main exports nothing. patch.so is linked with the old app.c.
run_cc $MAIN_CFLAGS -I$SRC $SRC/main.c $SRC/app.c ../common/hotfix.c ../common/fix-table-handler.c $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS -I$SRC $SRC/patch.c $SRC/app.c $PATCH_LDFLAGS -o "$OUT/patch.so"

! dynsym_exports "$OUT/main" need_fix_func || fail "main exports need_fix_func"
dynsym_exports "$OUT/patch.so" need_fix_func || fail "patch.so has no own need_fix_func"
readelf -rW "$OUT/patch.so" | grep 'R_X86_64_64 .* need_fix_func' >/dev/null ||
    fail "fix_table's old pointer is not a symbolic relocation against need_fix_func"
echo "  asserted: main exports nothing named need_fix_func; patch.so defines and relocates against its own copy"
