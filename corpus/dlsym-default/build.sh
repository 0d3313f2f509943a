#!/usr/bin/env bash
set -euo pipefail
SCENARIO=dlsym-default
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")

run_cc $MAIN_CFLAGS main.c app.c ../common/hotfix.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main-exported"
run_cc $MAIN_CFLAGS main.c app.c ../common/hotfix.c $MAIN_LDFLAGS -o "$OUT/main-unexported"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

dynsym_exports "$OUT/main-exported" need_fix_func || fail "main-exported does not export need_fix_func"
! dynsym_exports "$OUT/main-unexported" need_fix_func || fail "main-unexported exports need_fix_func"
[ -n "$(sym_addr "$OUT/main-unexported" need_fix_func)" ] || fail "main-unexported lost need_fix_func from .symtab"
echo "  asserted: need_fix_func in .dynsym of main-exported only (both have it in .symtab)"
