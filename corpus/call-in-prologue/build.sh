#!/usr/bin/env bash
set -euo pipefail
SCENARIO=call-in-prologue
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
COMMON="main.c target.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic"

run_cc $MAIN_CFLAGS $COMMON $MAIN_LDFLAGS -o "$OUT/main-idle"
run_cc $MAIN_CFLAGS -DWAIT_BLOCKS $COMMON $MAIN_LDFLAGS -o "$OUT/main-blocking"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

for variant in idle blocking; do
    bin=$OUT/main-$variant
    # The first instruction after the call (= the return address) must be at +1..+11.
    ret=$(func_insns "$bin" handle_events | awk -F'\t' 'after { if (!printed++) print $1 } $2 ~ /^call.*<wait_event>/ { after = 1 }')
    [ -n "$ret" ] || fail "$variant: handle_events does not call wait_event"
    [ "$ret" -ge 1 ] && [ "$ret" -le 11 ] || fail "$variant: call ends at +$ret, not strictly inside the first 12 bytes"
    [ "$(sym_size "$bin" handle_events)" -ge 12 ] || fail "$variant: handle_events shorter than the trampoline"
    echo "  asserted: $variant: call wait_event returns to handle_events+$ret"
    show_func "$bin" handle_events
done
# Only the blocking variant sleeps inside wait_event.
func_insns "$OUT/main-blocking" wait_event | grep 'call.*usleep' >/dev/null || fail "blocking: wait_event does not sleep"
! func_insns "$OUT/main-idle" wait_event | grep 'call' >/dev/null || fail "idle: wait_event calls something"
