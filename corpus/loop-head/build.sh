#!/usr/bin/env bash
set -euo pipefail
SCENARIO=loop-head
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")

# -O2 would pad the loop head to a 16-byte boundary (+16); -falign-loops=1 (as
# at -O1/-Os) keeps it where the code puts it, inside the first 12 bytes.
run_cc $MAIN_CFLAGS -falign-loops=1 -c target.c -o "$OUT/target.o"
run_cc $MAIN_CFLAGS main.c "$OUT/target.o" ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
rm "$OUT/target.o"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

# The loop's backward branch must target an offset in 1..11 of total_amount.
bin=$OUT/main
start=$((16#$(sym_addr "$bin" total_amount)))
head=$(func_insns "$bin" total_amount | awk -F'\t' '$2 ~ /^j/ { split($2, w, " "); if (!printed++) print w[2] }')
[ -n "$head" ] || fail "no branch in total_amount"
offset=$((16#$head - start))
[ "$offset" -ge 1 ] && [ "$offset" -le 11 ] || fail "loop head at +$offset, not inside the first 12 bytes"
[ "$(sym_size "$bin" total_amount)" -ge 12 ] || fail "total_amount shorter than the trampoline"
echo "  asserted: total_amount's loop branches back to +$offset"
show_func "$bin" total_amount
