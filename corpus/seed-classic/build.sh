#!/usr/bin/env bash
set -euo pipefail
SCENARIO=seed-classic
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")

# -rdynamic: patch.so's reference to need_fix_func must bind to this copy.
run_cc $MAIN_CFLAGS main.c app.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

dynsym_exports "$OUT/main" need_fix_func || fail "main does not export need_fix_func"
! nm --defined-only "$OUT/patch.so" | grep -w need_fix_func >/dev/null || fail "patch.so defines its own need_fix_func"
[ "$(sym_size "$OUT/main" need_fix_func)" -ge 12 ] || fail "need_fix_func shorter than the trampoline"
[ "$(trampoline_branch_bytes "$OUT/main")" = ffe0 ] || fail "the patcher does not end the trampoline with ff e0 (jmp rax)"
echo "  asserted: the patcher writes ... ff e0 (jmp rax)"
echo "  asserted: main exports need_fix_func ($(sym_size "$OUT/main" need_fix_func) bytes); patch.so only references it"
show_func "$OUT/main" need_fix_func
