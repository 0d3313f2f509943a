#!/usr/bin/env bash
set -euo pipefail
SCENARIO=ipa-ra
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")

# main: gcc -O2 as shipped (-fipa-ra is on at -O2); main-no-ipa-ra: the livepatch-safe build.
run_cc $MAIN_CFLAGS main.c app.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $MAIN_CFLAGS -fno-ipa-ra main.c app.c ../common/hotfix.c ../common/fix-table-handler.c -rdynamic $MAIN_LDFLAGS -o "$OUT/main-no-ipa-ra"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

for m in main main-no-ipa-ra; do
    dynsym_exports "$OUT/$m" next_state || fail "$m does not export next_state"
    [ "$(sym_size "$OUT/$m" next_state)" -ge 12 ] || fail "next_state in $m is shorter than the trampoline"
done
# The shape: with -fipa-ra, run_machine keeps the machine pointer in r8 across the call
# (read after it: mov %eax,(%r8)); with -fno-ipa-ra it uses only callee-saved registers.
with_ipa_ra=$(func_insns "$OUT/main" run_machine)
without_ipa_ra=$(func_insns "$OUT/main-no-ipa-ra" run_machine)
grep -q 'mov    %eax,(%r8)' <<<"$with_ipa_ra" || fail "main's run_machine does not keep the machine pointer in r8 across the call"
! grep -Eq '%r(8|9|10|11)\b' <<<"$without_ipa_ra" || fail "main-no-ipa-ra's run_machine uses a caller-saved r8-r11"
undefined=$(nm -D --undefined-only "$OUT/patch.so")
grep -Eqw '(__)?printf(_chk)?' <<<"$undefined" || fail "patch.so's fix_next_state does not call printf"
echo "  asserted: main keeps the machine pointer in r8 across next_state (gcc -fipa-ra); main-no-ipa-ra does not; the replacement calls printf"
show_func "$OUT/main" run_machine
