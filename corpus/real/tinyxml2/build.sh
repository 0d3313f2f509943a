#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/tinyxml2
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# TinyXML2 is compiled into main (unchanged); the shared patcher and handler are C.
# -rdynamic exports tally_item and TinyXML2's members to patch.so.
run_cc $MAIN_CFLAGS -c ../../common/hotfix.c -o "$OUT/hotfix.o"
run_cc $MAIN_CFLAGS -c ../../common/fix-table-handler.c -o "$OUT/fix-table-handler.o"
run_cxx $MAIN_CFLAGS -c upstream/tinyxml2.cpp -o "$OUT/tinyxml2.o"
run_cxx $MAIN_CFLAGS main.cpp stock.cpp "$OUT/tinyxml2.o" "$OUT/hotfix.o" "$OUT/fix-table-handler.o" -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
rm "$OUT/hotfix.o" "$OUT/fix-table-handler.o" "$OUT/tinyxml2.o"
run_cxx $PATCH_CFLAGS patch.cpp $PATCH_LDFLAGS -o "$OUT/patch.so"

target=_Z10tally_itemRSt3mapINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEElSt4lessIS5_ESaISt4pairIKS5_lEEEPKN8tinyxml210XMLElementE
replacement=_Z16tally_item_fixedRSt3mapINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEElSt4lessIS5_ESaISt4pairIKS5_lEEEPKN8tinyxml210XMLElementE
assert_hotfix_target "$OUT/main" "$OUT/patch.so" "$target" "$replacement"
# iostream and std::map: the std::map insert rebalances in libstdc++.
assert_imports "$OUT/main" _ZSt29_Rb_tree_insert_and_rebalancebPSt18_Rb_tree_node_baseS0_RS_ \
    _ZSt18_Rb_tree_incrementPSt18_Rb_tree_node_base _ZStlsISt11char_traitsIcEERSt13basic_ostreamIcT_ES5_PKc
readelf -r -W "$OUT/main" | awk '$3 == "R_X86_64_COPY" && $5 ~ /^_ZSt4cout/ { found = 1 } END { exit !found }' ||
    fail "main does not copy-relocate std::cout"
echo "  asserted: main copy-relocates std::cout (R_X86_64_COPY)"
assert_imports "$OUT/patch.so" _ZSt29_Rb_tree_insert_and_rebalancebPSt18_Rb_tree_node_baseS0_RS_
echo "  needed: $(needed_libs "$OUT/main")"
show_func "$OUT/main" "$target"
