#!/usr/bin/env bash
set -euo pipefail
SCENARIO=vtable-swap
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
CC=${CXX:-g++}

COMMON="imp1.cpp greet.cpp ../common/hotfix.c"
# g++ compiles hotfix.c as C++: the same helpers, C linkage not needed.
run_cc $MAIN_CFLAGS -x c++ main.cpp dynahook.cpp $COMMON -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $MAIN_CFLAGS -x c++ -DMETHOD_COUNT=3 main.cpp dynahook.cpp $COMMON -rdynamic $MAIN_LDFLAGS -o "$OUT/main-count3"
run_cc $MAIN_CFLAGS -x c++ -DHOOK_THIS_ON_STACK main.cpp dynahook.cpp $COMMON -rdynamic $MAIN_LDFLAGS -o "$OUT/main-stack-this"
run_cc $MAIN_CFLAGS -x c++ -DIMP1_FINAL main.cpp dynahook.cpp $COMMON -rdynamic $MAIN_LDFLAGS -o "$OUT/main-final"
run_cc $PATCH_CFLAGS patch.cpp $PATCH_LDFLAGS -o "$OUT/patch.so"
run_cc $PATCH_CFLAGS patch-multi.cpp $PATCH_LDFLAGS -o "$OUT/patch-multi.so"
run_cc $MAIN_CFLAGS -x c++ -DSPECULATIVE_CALL main.cpp dynahook.cpp $COMMON -rdynamic $MAIN_LDFLAGS -o "$OUT/main-speculative"
run_cc $MAIN_CFLAGS -x c++ -DWITH_MULTI main.cpp dynahook.cpp multi.cpp $COMMON -rdynamic $MAIN_LDFLAGS -o "$OUT/main-multi"

vt_size() { sym_size "$1" _ZTV4Imp1; }
for m in main main-count3 main-stack-this main-final main-speculative main-multi; do
    [ "$(vt_size "$OUT/$m")" = 32 ] || fail "$m: _ZTV4Imp1 is not 32 bytes (offset-to-top, typeinfo, hello, foo)"
    grep -q '\.data\.rel\.ro' <<<"$(readelf -SW "$OUT/$m")" || fail "$m has no .data.rel.ro"
    grep -q GNU_RELRO <<<"$(readelf -lW "$OUT/$m")" || fail "$m has no PT_GNU_RELRO"
done
echo "  asserted: _ZTV4Imp1 is 32 bytes in .data.rel.ro under PT_GNU_RELRO in every main"
# method_count 3 writes the 8 bytes right after _ZTV4Imp1: the next vtable object.
vt=$((16#$(sym_addr "$OUT/main-count3" _ZTV4Imp1)))
[ $((16#$(sym_addr "$OUT/main-count3" _ZTV8Imp1Loud))) = $((vt + 32)) ] || fail "main-count3: _ZTV8Imp1Loud does not follow _ZTV4Imp1"
echo "  asserted: in main-count3 _ZTV8Imp1Loud starts right after _ZTV4Imp1 (slot 3 is its offset-to-top)"
# The final class: main calls Imp1::hello directly.
final_main=$(func_insns "$OUT/main-final" main)
grep -q 'call.*<_ZN4Imp15helloEv>' <<<"$final_main" || fail "main-final does not call Imp1::hello directly"
echo "  asserted: main-final calls Imp1::hello with a direct call (devirtualised: Imp1 is final)"
# Speculative devirtualisation compares the slot with Imp1::hello.
speculative=$(func_insns "$OUT/main-speculative" _Z14hello_via_imp1P4Imp1)
grep -q 'cmp' <<<"$speculative" || fail "hello_via_imp1 is not speculatively devirtualised"
grep -Eq 'jmp +\*%r' <<<"$speculative" || fail "hello_via_imp1 has no fallback through the slot"
echo "  asserted: hello_via_imp1 compares the slot with Imp1::hello and falls back to an indirect jump"
show_func "$OUT/main-speculative" _Z14hello_via_imp1P4Imp1
# The stub bytes each dynahook writes.
for m in main main-stack-this; do
    addr=$((16#$(sym_addr "$OUT/$m" dynahook_stub_template)))
    echo "  $m stub: $(objdump -s --start-address=$addr --stop-address=$((addr + 8)) "$OUT/$m" | awk '/^ [0-9a-f]+ / { print $2 $3; exit }')..."
done
grep -qw converter <<<"$(nm --defined-only "$OUT/patch.so")" || fail "patch.so does not define converter"
# Multi's secondary vtable (Imp1 in Multi) holds a thunk to Multi::hello; patch.so has MultiFixed's.
grep -qw _ZThn16_N5Multi5helloEv <<<"$(nm --defined-only "$OUT/main-multi")" || fail "main-multi has no thunk _ZThn16_N5Multi5helloEv"
grep -qw _ZThn16_N10MultiFixed5helloEv <<<"$(nm --defined-only "$OUT/patch-multi.so")" || fail "patch-multi.so has no thunk _ZThn16_N10MultiFixed5helloEv"
echo "  asserted: main-multi's Multi::hello is reached through the thunk _ZThn16_N5Multi5helloEv; patch-multi.so defines _ZThn16_N10MultiFixed5helloEv"
