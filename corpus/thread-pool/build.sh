#!/usr/bin/env bash
set -euo pipefail
SCENARIO=thread-pool
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
COMMON="main.c target.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic -pthread"

run_cc $MAIN_CFLAGS $COMMON $MAIN_LDFLAGS -o "$OUT/main-parked"
run_cc $MAIN_CFLAGS -DPOOL_BLOCKING $COMMON $MAIN_LDFLAGS -o "$OUT/main-blocking"
run_cc $MAIN_CFLAGS -DPOOL_BUSY -DHOTFIX_BYTE_LOOP $COMMON $MAIN_LDFLAGS -o "$OUT/main-torn"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

for variant in parked blocking; do
    bin=$OUT/main-$variant
    ret=$(func_insns "$bin" serve | awk -F'\t' 'after { if (!printed++) print $1 } $2 ~ /^call.*<wait_job>/ { after = 1 }')
    [ -n "$ret" ] && [ "$ret" -ge 1 ] && [ "$ret" -le 11 ] || fail "$variant: serve's call of wait_job does not return inside the first 12 bytes"
    [ "$(sym_size "$bin" score)" -ge 12 ] || fail "$variant: score shorter than the trampoline"
    ! func_insns "$bin" score | grep 'call' >/dev/null || fail "$variant: score calls something"
    echo "  asserted: $variant: call wait_job returns to serve+$ret; score has no call"
    show_func "$bin" serve
done
# The byte-loop patcher: a one-byte store into score in a loop (mov %sil,-0x1(%rcx)).
stores=$(func_insns "$OUT/main-torn" hotfix_apply | awk -F'\t' '$2 ~ /^mov +%[a-z0-9]+l?,-?(0x[0-9a-f]+)?\(%r/' | grep -c '%[abcd]l,\|%[sd]il,\|%r[0-9]+b,' || true)
[ "$stores" -ge 1 ] || fail "torn: hotfix_apply has no byte store"
echo "  asserted: torn: hotfix_apply stores the trampoline byte by byte"
