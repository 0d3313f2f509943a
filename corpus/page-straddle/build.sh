#!/usr/bin/env bash
set -euo pipefail
SCENARIO=page-straddle
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
COMMON="main.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic"

# target.c: no function alignment, so need_fix_func starts right after the padding.
run_cc $MAIN_CFLAGS -falign-functions=1 -fno-toplevel-reorder -c target.c -o "$OUT/target.o"
run_cc $MAIN_CFLAGS -DHOTFIX_PROTECT_PAGES=1 $COMMON "$OUT/target.o" $MAIN_LDFLAGS -o "$OUT/main-one-page"
run_cc $MAIN_CFLAGS -DHOTFIX_PROTECT_PAGES=2 $COMMON "$OUT/target.o" $MAIN_LDFLAGS -o "$OUT/main-two-pages"
rm "$OUT/target.o"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

for variant in one-page two-pages; do
    bin=$OUT/main-$variant
    start=$((16#$(sym_addr "$bin" need_fix_func)))
    [ $((start / 4096)) -ne $(((start + 11) / 4096)) ] || fail "$variant: need_fix_func's first 12 bytes do not straddle a page"
    [ "$(sym_size "$bin" need_fix_func)" -ge 12 ] || fail "$variant: need_fix_func shorter than the trampoline"
    # Both pages must be mapped R-X by one PT_LOAD, so the only problem is the mprotect length.
    in_rx_segment=no
    while read -r vaddr memsz; do
        if [ "$start" -ge $((vaddr)) ] && [ $((start + 12)) -le $((vaddr + memsz)) ]; then in_rx_segment=yes; fi
    done < <(readelf -lW "$bin" | awk '$1 == "LOAD" && $7 == "R" && $8 == "E" { print $3, $6 }')
    [ $in_rx_segment = yes ] || fail "$variant: need_fix_func's 12 bytes are not inside one R E segment"
    [ "$(trampoline_branch_bytes "$bin")" = ffe0 ] || fail "$variant: the patcher does not end the trampoline with ff e0"
    echo "  asserted: $variant: need_fix_func at page offset $(printf %#x $((start % 4096))), bytes 0..11 in one R E segment"
done
