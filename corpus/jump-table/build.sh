#!/usr/bin/env bash
# Non-PIE, so the switch compiles to `notrack jmp *table(,%rdx,8)` with absolute
# 8-byte entries in .rodata and the loop head needs no hoisted `lea` of the table.
set -euo pipefail
SCENARIO=jump-table
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
NOPIE_CFLAGS="-O2 -fno-pie $HARDENING $REPRO -I../common"
NOPIE_LDFLAGS="-no-pie $LINK_HARDENING -ldl"

# Layout only: -O2 would pad the loop head to +16 (as in loop-head).
run_cc $NOPIE_CFLAGS -falign-loops=1 -falign-jumps=1 -falign-labels=1 -c target.c -o "$OUT/target.o"
run_cc $NOPIE_CFLAGS main.c "$OUT/target.o" ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $NOPIE_LDFLAGS -o "$OUT/main-nopie"
rm "$OUT/target.o"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

bin=$OUT/main-nopie
start=$((16#$(sym_addr "$bin" run_program)))
table=$(func_insns "$bin" run_program | awk -F'\t' '$2 ~ /jmp +\*0x[0-9a-f]+\(,%r[a-z0-9]+,8\)/ { sub(/.*\*0x/, "", $2); sub(/\(.*/, "", $2); if (!printed++) print $2 }')
[ -n "$table" ] || fail "run_program has no jump-table dispatch"
# Entry 1 (opcode nop), little-endian 8 bytes at table+8.
entry=$(objdump -s --start-address=$((16#$table + 8)) --stop-address=$((16#$table + 16)) "$bin" |
    awk '/^ [0-9a-f]+ / { if (!printed++) print $2 $3 }')
target=$((16#$(echo "$entry" | sed -E 's/(..)(..)(..)(..)(..)(..)(..)(..)/\8\7\6\5\4\3\2\1/')))
offset=$((target - start))
[ "$offset" -ge 1 ] && [ "$offset" -le 11 ] || fail "jump-table entry 1 targets +$offset, not inside the first 12 bytes"
[ "$(sym_size "$bin" run_program)" -ge 12 ] || fail "run_program shorter than the trampoline"
echo "  asserted: run_program's jump table at 0x$table, entry 1 targets run_program+$offset"
show_func "$bin" run_program
