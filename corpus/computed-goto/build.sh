#!/usr/bin/env bash
set -euo pipefail
SCENARIO=computed-goto
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")

run_cc $MAIN_CFLAGS main.c app.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

dynsym_exports "$OUT/main" interpret || fail "main does not export interpret"
[ "$(sym_size "$OUT/main" interpret)" -ge 12 ] || fail "interpret is shorter than the trampoline"
# The shape: an R_X86_64_RELATIVE relocation (the &&op_step entry of the dispatch table)
# whose addend lies at bytes 1..11 of interpret, and no direct branch to it.
start=$((16#$(sym_addr "$OUT/main" interpret)))
relocs=$(readelf -rW "$OUT/main")
inside=""
while read -r _ _ type addend _; do
    [ "$type" = R_X86_64_RELATIVE ] || continue
    a=$((16#$addend))
    if [ $a -gt $start ] && [ $a -lt $((start + 12)) ]; then inside=$((a - start)); fi
done <<<"$relocs"
[ -n "$inside" ] || fail "no relocated table entry points into interpret's first 12 bytes"
insns=$(func_insns "$OUT/main" interpret)
! grep -Eq "^[0-9]+	j[a-z]+ +[0-9a-f]+ <interpret\+0x($(printf '%x' "$inside"))>" <<<"$insns" || fail "a direct branch targets the table entry: the scenario is about data references only"
echo "  asserted: a dispatch-table relocation points at interpret+$inside (inside the 12 bytes); no direct branch does"
show_func "$OUT/main" interpret
