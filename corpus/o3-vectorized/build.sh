#!/usr/bin/env bash
set -euo pipefail
SCENARIO=o3-vectorized
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")

# The corpus flags with -O3 -march=x86-64-v2 after them (the later -O wins): the
# vectoriser is on and SSE4.1's pmulld is allowed, as in servers built for speed.
VECTOR="-O3 -march=x86-64-v2"
run_cc $MAIN_CFLAGS $VECTOR main.c score.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS $VECTOR patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

bin=$OUT/main
dynsym_exports "$bin" volley_damage || fail "main does not export volley_damage"
! nm --defined-only "$OUT/patch.so" | grep -w volley_damage >/dev/null || fail "patch.so defines its own volley_damage"
[ "$(sym_size "$bin" volley_damage)" -ge 12 ] || fail "volley_damage shorter than the trampoline"
# The hot loop really is vectorised: packed multiply and add over unaligned loads,
# in the old function and in its replacement.
for insn in movdqu pmulld paddd; do
    func_insns "$bin" volley_damage | grep -w "$insn" >/dev/null || fail "volley_damage has no $insn: the loop was not vectorised"
    func_insns "$OUT/patch.so" volley_damage_fixed | grep -w "$insn" >/dev/null || fail "volley_damage_fixed has no $insn"
done
# main really calls it (no inlined copy to miss).
func_insns "$bin" main | grep 'call.*<volley_damage>' >/dev/null || fail "main does not call volley_damage"
# No branch inside volley_damage targets bytes 1..11 (the vector loop head is further in).
start=$((16#$(sym_addr "$bin" volley_damage)))
for target in $(func_insns "$bin" volley_damage | awk -F'\t' '$2 ~ /^j/ { split($2, w, " "); print w[2] }'); do
    offset=$((16#$target - start))
    if [ "$offset" -ge 1 ] && [ "$offset" -le 11 ]; then fail "a branch in volley_damage targets +$offset"; fi
done
loop=$(func_insns "$bin" volley_damage | awk -F'\t' '$2 ~ /^movdqu/ { if (!printed++) print $1 }')
echo "  asserted: volley_damage ($(sym_size "$bin" volley_damage) bytes) is vectorised (movdqu/pmulld/paddd, loop at +$loop), so is volley_damage_fixed; no branch targets +1..+11; main calls it and exports it"
show_func "$bin" volley_damage
