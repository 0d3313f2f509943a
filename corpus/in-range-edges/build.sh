#!/usr/bin/env bash
set -euo pipefail
SCENARIO=in-range-edges
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")

run_cc $MAIN_CFLAGS main.c kernels.S ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

for f in abs_scale pc_base; do
    dynsym_exports "$OUT/main" $f || fail "main does not export $f"
    [ "$(sym_size "$OUT/main" $f)" -ge 12 ] || fail "$f is shorter than the trampoline"
done
abs=$(func_insns "$OUT/main" abs_scale)
pc=$(func_insns "$OUT/main" pc_base)
grep -Eq '^6	jns +[0-9a-f]+ <abs_scale\+0xa>' <<<"$abs" || fail "abs_scale has no jns at +6 to +10"
grep -Eq '^4	call +[0-9a-f]+ <pc_base\+0x9>' <<<"$pc" || fail "pc_base has no call at +4 to its own return address +9"
grep -Eq '^9	pop +%rax' <<<"$pc" || fail "pc_base does not pop the return address at +9"
echo "  asserted: abs_scale jns +6 -> +10 (forward, inside 12 bytes); pc_base call +4 -> +9 = its return address, pop rax"
show_func "$OUT/main" abs_scale
show_func "$OUT/main" pc_base
