# Shared by corpus/build.sh and every scenario's build.sh: compiler flags and
# the structural assertions (a scenario is only valid if the compiler really
# produced the shape it is about). Sourced, not executed.

CC=${CC:-gcc}

# Ubuntu 22.04 gcc defaults as the field ships them, spelled out because
# Debian's gcc enables only PIE by default.
HARDENING="-fstack-protector-strong -fstack-clash-protection -fcf-protection=full -D_FORTIFY_SOURCE=2"
LINK_HARDENING="-Wl,-z,relro,-z,now -Wl,--as-needed"
# No -g: nothing path-dependent is emitted; the prefix map covers __FILE__.
REPRO="-ffile-prefix-map=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)=corpus"
MAIN_CFLAGS="-O2 -fPIE $HARDENING $REPRO -I../common"
MAIN_LDFLAGS="-pie $LINK_HARDENING -ldl"
PATCH_CFLAGS="-O2 -fpic $HARDENING $REPRO -I../common"
PATCH_LDFLAGS="-shared $LINK_HARDENING"

fail() {
    echo "corpus build: $SCENARIO: $*" >&2
    exit 1
}

# The scenario's output directory (first argument of a scenario build.sh).
scenario_out() {
    local out=${1:-.}
    mkdir -p "$out"
    (cd "$out" && pwd)
}

# Log and run one compiler command, so BUILDINFO-style logs show exact flags.
run_cc() {
    echo "  $CC $*" | sed -e "s|$OUT/||g" -e "s|-ffile-prefix-map=[^ ]*|-ffile-prefix-map=<corpus>=corpus|"
    "$CC" "$@"
}

# Address (hex, no 0x) and size (decimal) of a defined symbol in .symtab.
sym_addr() {
    nm --defined-only "$1" | awk -v s="$2" '$3 == s { if (!printed++) print $1 }'
}
sym_size() {
    local size
    size=$(nm -S --defined-only "$1" | awk -v s="$2" '$4 == s { if (!printed++) print $2 }')
    [ -n "$size" ] || fail "$2 not found in $1"
    echo $((16#$size))
}
# Address of the first function symbol strictly after $2's start.
next_func_addr() {
    local start
    start=$((16#$(sym_addr "$1" "$2")))
    local a found=
    # Read everything (no early exit): with pipefail a SIGPIPE'd nm would fail the build.
    while read -r a; do
        if [ -z "$found" ] && [ $((16#$a)) -gt "$start" ]; then found=$((16#$a)); fi
    done < <(nm --defined-only -n "$1" | awk '$2 == "T" || $2 == "t" { print $1 }')
    echo "$found"
}
# Does .dynsym export the symbol?
dynsym_exports() {
    readelf --dyn-syms -W "$1" | awk -v s="$2" '$8 == s && $7 != "UND" { found = 1 } END { exit !found }'
}
# Disassembly of one function: "offset<TAB>instruction" lines, offsets decimal
# from the function start.
func_insns() {
    local start
    start=$((16#$(sym_addr "$1" "$2")))
    objdump -d --no-show-raw-insn --disassemble="$2" "$1" |
        awk -F'\t' '/^ *[0-9a-f]+:\t/ { sub(/:$/, "", $1); gsub(/ /, "", $1); print $1 "\t" $2 }' |
        while IFS=$'\t' read -r a insn; do echo "$((16#$a - start))	$insn"; done
}
# Print the disassembly of a function into the build log (proof of shape).
show_func() {
    echo "  -- $2 in $(basename "$1"):"
    func_insns "$1" "$2" | sed 's/^/     /'
}
# The two bytes the patcher in common/hotfix.c ends its trampoline with, as hex.
trampoline_branch_bytes() {
    local addr
    addr=$((16#$(sym_addr "$1" hotfix_trampoline_branch)))
    objdump -s --start-address=$addr --stop-address=$((addr + 2)) "$1" |
        awk '/^ [0-9a-f]+ / { if (!printed++) print $2 }'
}
