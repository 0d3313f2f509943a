#!/usr/bin/env bash
# seed-classic's sources; the patcher writes `call rax` (ff d0) instead of `jmp rax`.
set -euo pipefail
SCENARIO=call-trampoline
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
SRC=../seed-classic

run_cc $MAIN_CFLAGS -DHOTFIX_CALL_TRAMPOLINE -I$SRC $SRC/main.c $SRC/app.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS -I$SRC $SRC/patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

[ "$(trampoline_branch_bytes "$OUT/main")" = ffd0 ] || fail "the patcher does not end the trampoline with ff d0"
dynsym_exports "$OUT/main" need_fix_func || fail "main does not export need_fix_func"
echo "  asserted: hotfix_apply writes ff d0 (call rax)"
