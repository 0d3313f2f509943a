#!/usr/bin/env bash
set -euo pipefail
SCENARIO=short-function
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
LAYOUT="-fno-reorder-functions -fno-toplevel-reorder"
COMMON="main.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic"

run_cc $MAIN_CFLAGS $LAYOUT -falign-functions=1 $COMMON target.c $MAIN_LDFLAGS -o "$OUT/main-adjacent"
run_cc $MAIN_CFLAGS $LAYOUT $COMMON target.c $MAIN_LDFLAGS -o "$OUT/main-padded"
# The field's debug build: at -O0 get_level keeps its frame-pointer prologue and
# grows to 16 bytes, so the same packed layout becomes safe.
run_cc ${MAIN_CFLAGS/-O2/-O0} -U_FORTIFY_SOURCE $LAYOUT -falign-functions=1 -c target.c -o "$OUT/target-O0.o"
run_cc $MAIN_CFLAGS $LAYOUT -falign-functions=1 $COMMON "$OUT/target-O0.o" $MAIN_LDFLAGS -o "$OUT/main-O0"
rm "$OUT/target-O0.o"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

for variant in adjacent padded; do
    bin=$OUT/main-$variant
    size=$(sym_size "$bin" get_level)
    start=$((16#$(sym_addr "$bin" get_level)))
    next=$(next_func_addr "$bin" get_level)
    [ "$size" -lt 12 ] || fail "$variant: get_level is $size bytes, not < 12"
    [ $((16#$(sym_addr "$bin" get_bonus))) -eq "$next" ] || fail "$variant: get_bonus does not follow get_level"
    gap=$((next - start - size))
    if [ $variant = adjacent ]; then
        [ "$gap" -eq 0 ] || fail "adjacent: $gap bytes between get_level and get_bonus"
    else
        [ $((next - start)) -ge 12 ] || fail "padded: get_bonus starts at +$((next - start)), inside the 12 bytes"
        # The gap must be padding only (nop/int3), not code anyone reaches.
        objdump -d --start-address=$((start + size)) --stop-address=$next "$bin" |
            awk -F'\t' '/^ *[0-9a-f]+:\t/ && $3 !~ /^(nop|int3|cs nopw|data16|xchg +%ax,%ax)/ { bad = 1 } END { exit bad }' ||
            fail "padded: gap after get_level is not padding"
    fi
    echo "  asserted: $variant: get_level $size bytes, get_bonus at +$((next - start)) ($gap bytes between)"
    show_func "$bin" get_level
done

bin=$OUT/main-O0
size=$(sym_size "$bin" get_level)
next=$(next_func_addr "$bin" get_level)
[ "$size" -ge 12 ] || fail "O0: get_level is $size bytes, < 12"
[ $((next - 16#$(sym_addr "$bin" get_level))) -eq "$size" ] || fail "O0: get_bonus does not follow get_level directly"
echo "  asserted: O0: get_level $size bytes, get_bonus right after it"
show_func "$bin" get_level
