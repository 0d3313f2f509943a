#!/usr/bin/env bash
# Inputs the tool cannot verify (exit code 2). main and patch.so are
# seed-classic's; the broken files are derived from them.
set -euo pipefail
SCENARIO=bad-input
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
SRC=../seed-classic

run_cc $MAIN_CFLAGS -I$SRC $SRC/main.c $SRC/app.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS -I$SRC $SRC/patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"
run_cc $PATCH_CFLAGS patch-without-symbol.c $PATCH_LDFLAGS -o "$OUT/patch-without-symbol.so"
# A copy cut off after the first page: ELF and program headers intact, the
# executable segment and the section headers missing.
echo "  head -c 4096 main > main-truncated"
head -c 4096 "$OUT/main" >"$OUT/main-truncated"
[ "$OUT" = "$(pwd)" ] || cp not-elf "$OUT/not-elf"

shoff=$(readelf -hW "$OUT/main" | awk '/Start of section headers/ { print $5 }')
[ "$shoff" -gt 4096 ] || fail "main's section headers lie inside the truncated copy"
readelf -lW "$OUT/main" | awk '$1 == "LOAD" && $8 == "E" { print $2 }' | grep . >/dev/null || fail "main has no executable segment"
[ $(($(readelf -lW "$OUT/main" | awk '$1 == "LOAD" && $8 == "E" { if (!printed++) print $2 }'))) -ge 4096 ] ||
    fail "main's executable segment starts inside the truncated copy"
[ "$(head -c 4 not-elf | od -An -tx1 | tr -d ' ')" != 7f454c46 ] || fail "not-elf starts with the ELF magic"
! nm -D --defined-only "$OUT/patch-without-symbol.so" | grep -w fix_func >/dev/null || fail "patch-without-symbol.so defines fix_func"
! nm --defined-only "$OUT/main" | grep -w no_such_function >/dev/null || fail "main defines no_such_function"
echo "  asserted: main-truncated lacks the executable segment and section headers; not-elf has no ELF magic; patch-without-symbol.so lacks fix_func"
