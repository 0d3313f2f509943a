#!/usr/bin/env bash
# main.c here; patch.c is seed-classic's (fix_func + fix_table).
set -euo pipefail
SCENARIO=inlined-target
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")

run_cc $MAIN_CFLAGS main.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS -I../seed-classic ../seed-classic/patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

bin=$OUT/main
dynsym_exports "$bin" need_fix_func || fail "main does not export need_fix_func"
[ "$(sym_size "$bin" need_fix_func)" -ge 12 ] || fail "need_fix_func shorter than the trampoline"
# No direct call or jump to the out-of-line copy anywhere: every direct use was inlined.
! objdump -d "$bin" | grep -E '(call|jmp) +[0-9a-f]+ <need_fix_func>' || fail "need_fix_func is still called directly"
func_insns "$bin" main | grep 'call.*__printf_chk' >/dev/null || fail "main does not contain the inlined printf"
echo "  asserted: no direct call/jmp to need_fix_func (inlined into main); the out-of-line copy is exported"
