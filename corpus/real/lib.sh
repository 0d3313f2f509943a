# Shared by every corpus/real/<program>/build.sh: the corpus flags of
# ../../lib/build-lib.sh (Ubuntu defaults + -rdynamic for main) and the checks every
# real program's hot fix must pass. Sourced, not executed; the caller sets SCENARIO.

. ../../lib/build-lib.sh
CXX=${CXX:-g++}
# The shared patcher and handler live in corpus/common, two levels up from here.
MAIN_CFLAGS=${MAIN_CFLAGS/-I..\/common/-I../../common}
PATCH_CFLAGS=${PATCH_CFLAGS/-I..\/common/-I../../common}
COMMON_SOURCES="../../common/hotfix.c ../../common/fix-table-handler.c"

# Log and run one C++ compiler command (run_cc's format, for BUILDINFO).
run_cxx() {
    echo "  $CXX $*" | sed -e "s|$OUT/||g" -e "s|-ffile-prefix-map=[^ ]*|-ffile-prefix-map=<corpus>=corpus|"
    "$CXX" "$@"
}

# The shape every real program's hot fix relies on, asserted on the built files:
#   assert_hotfix_target MAIN PATCH SYMBOL REPLACEMENT
# main exports SYMBOL (-rdynamic), it is at least 12 bytes, no branch inside it targets
# bytes +1..+11 (the trampoline's), patch.so defines REPLACEMENT and fix_table but only
# references SYMBOL, and the patcher writes jmp rax.
assert_hotfix_target() {
    local main=$1 patch=$2 sym=$3 replacement=$4
    dynsym_exports "$main" "$sym" || fail "main does not export $sym"
    local size
    size=$(sym_size "$main" "$sym")
    [ "$size" -ge 12 ] || fail "$sym is $size bytes, shorter than the trampoline"
    local start branch offset
    start=$((16#$(sym_addr "$main" "$sym")))
    for branch in $(func_insns "$main" "$sym" | awk -F'\t' '$2 ~ /^(j|loop|call)/ { split($2, w, " "); if (w[2] ~ /^[0-9a-f]+$/) print w[2] }'); do
        offset=$((16#$branch - start))
        if [ "$offset" -ge 1 ] && [ "$offset" -le 11 ]; then fail "a branch in $sym targets +$offset"; fi
    done
    ! nm --defined-only "$patch" | awk '{ print $3 }' | grep -x "$sym" >/dev/null || fail "patch.so defines its own $sym"
    dynsym_exports "$patch" "$replacement" || fail "patch.so does not export $replacement"
    dynsym_exports "$patch" fix_table || fail "patch.so does not export fix_table"
    [ "$(trampoline_branch_bytes "$main")" = ffe0 ] || fail "the patcher does not end the trampoline with ff e0 (jmp rax)"
    echo "  asserted: main exports $sym ($size bytes), no branch targets +1..+11; patch.so defines $replacement and fix_table, only references $sym; the patcher writes ... ff e0"
}

# The libraries main needs (DT_NEEDED), space-separated, for the build log.
needed_libs() {
    readelf -d -W "$1" | awk '/\(NEEDED\)/ { gsub(/[][]/, "", $5); printf "%s%s", sep, $5; sep = " " }'
}

# Assert main imports each named symbol from a shared library (the real libc/libstdc++
# entry points a program of this kind needs, which the stubs model must provide).
assert_imports() {
    local main=$1
    shift
    local imports sym
    imports=$(nm -D --undefined-only "$main" | awk '{ sub(/@.*/, "", $2); print $2 }')
    for sym in "$@"; do
        echo "$imports" | grep -x "$sym" >/dev/null || fail "main does not import $sym"
    done
    echo "  asserted: $(basename "$main") imports $*"
}
