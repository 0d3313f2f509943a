#!/usr/bin/env bash
# A non-PIE main (loaded at 0x400000) with seed-classic's app.c and patch.c:
# patch.so is mapped near the top of the address space, > 2 GiB away.
set -euo pipefail
SCENARIO=rel32-range
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
SRC=../seed-classic
NOPIE_CFLAGS="-O2 -fno-pie $HARDENING $REPRO -I../common"
NOPIE_LDFLAGS="-no-pie $LINK_HARDENING -ldl"

run_cc $NOPIE_CFLAGS -I$SRC main.c $SRC/app.c ../common/hotfix.c -rdynamic $NOPIE_LDFLAGS -o "$OUT/main-nopie"
run_cc $PATCH_CFLAGS -I$SRC $SRC/patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

bin=$OUT/main-nopie
readelf -hW "$bin" | grep 'Type: *EXEC' >/dev/null || fail "main-nopie is not ET_EXEC"
addr=$((16#$(sym_addr "$bin" need_fix_func)))
[ "$addr" -lt $((0x80000000)) ] || fail "need_fix_func is not in the low 2 GiB"
dynsym_exports "$bin" need_fix_func || fail "main-nopie does not export need_fix_func"
echo "  asserted: main-nopie is ET_EXEC, need_fix_func at $(printf %#x "$addr") (fixed, low 2 GiB), exported"
