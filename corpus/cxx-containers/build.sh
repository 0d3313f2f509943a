#!/usr/bin/env bash
set -euo pipefail
SCENARIO=cxx-containers
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")
CXX=${CXX:-g++}

# Log and run one C++ compiler command (run_cc's format, for BUILDINFO).
run_cxx() {
    echo "  $CXX $*" | sed -e "s|$OUT/||g" -e "s|-ffile-prefix-map=[^ ]*|-ffile-prefix-map=<corpus>=corpus|"
    "$CXX" "$@"
}

# The shared patcher and handler are C: compiled by gcc, linked into the C++ program
# (main.cpp includes hotfix.h inside extern "C"). -rdynamic: patch.so's reference to
# record_hit must bind to this copy.
run_cc $MAIN_CFLAGS -c ../common/hotfix.c -o "$OUT/hotfix.o"
run_cc $MAIN_CFLAGS -c ../common/fix-table-handler.c -o "$OUT/fix-table-handler.o"
run_cxx $MAIN_CFLAGS main.cpp session.cpp "$OUT/hotfix.o" "$OUT/fix-table-handler.o" -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
rm "$OUT/hotfix.o" "$OUT/fix-table-handler.o"
run_cxx $PATCH_CFLAGS patch.cpp $PATCH_LDFLAGS -o "$OUT/patch.so"

bin=$OUT/main
target=_Z10record_hitR12SessionTableRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEi
dynsym_exports "$bin" "$target" || fail "main does not export record_hit"
! nm --defined-only "$OUT/patch.so" | grep -w "$target" >/dev/null || fail "patch.so defines its own record_hit"
[ "$(sym_size "$bin" "$target")" -ge 12 ] || fail "record_hit shorter than the trampoline"
start=$((16#$(sym_addr "$bin" "$target")))
for branch in $(func_insns "$bin" "$target" | awk -F'\t' '$2 ~ /^j/ { split($2, w, " "); print w[2] }'); do
    offset=$((16#$branch - start))
    if [ "$offset" -ge 1 ] && [ "$offset" -le 11 ]; then fail "a branch in record_hit targets +$offset"; fi
done
# The container code is inlined templates calling into libstdc++: these imports are
# what the sandbox's stubs serve.
imports=$(nm -D --undefined-only "$bin" | awk '{ sub(/@.*/, "", $2); print $2 }')
for sym in _ZSt11_Hash_bytesPKvmm _ZNKSt8__detail20_Prime_rehash_policy14_M_need_rehashEmmm \
    _ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE9_M_createERmm _Znwm _ZdlPvm; do
    echo "$imports" | grep -x "$sym" >/dev/null || fail "main does not import $sym"
done
func_insns "$bin" main | grep "call.*<$target>" >/dev/null || fail "main does not call record_hit"
echo "  asserted: main exports record_hit ($(sym_size "$bin" "$target") bytes), calls it, no branch targets +1..+11; patch.so only references it"
echo "  asserted: main imports _Hash_bytes, _Prime_rehash_policy::_M_need_rehash, string::_M_create, operator new/delete from libstdc++"
show_func "$bin" "$target"
