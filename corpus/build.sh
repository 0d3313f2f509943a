#!/usr/bin/env bash
# Rebuild every scenario of the corpus and record the toolchain in BUILDINFO.
#   corpus/build.sh            build in place (the committed binaries)
#   corpus/build.sh --out DIR  build into DIR/<scenario>/ and DIR/real/<program>/ (reproducibility check)
set -euo pipefail
export LC_ALL=C
export SOURCE_DATE_EPOCH=0
here=$(cd "$(dirname "$0")" && pwd)
out=$here
while [ $# -gt 0 ]; do
    case $1 in
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--out DIR]" >&2; exit 2 ;;
    esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

SCENARIOS=$(cat "$here/SCENARIOS")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for scenario in $SCENARIOS; do
    echo "== $scenario" | tee -a "$log"
    (cd "$here/$scenario" && bash ./build.sh "$out/$scenario") 2>&1 | tee -a "$log"
done
# The upstream programs of corpus/real (their own list, real/SCENARIOS).
bash "$here/real/build.sh" "$out/real" 2>&1 | tee -a "$log"
REAL=$(cat "$here/real/SCENARIOS")

. "$here/lib/build-lib.sh"
{
    echo "# Written by corpus/build.sh. Toolchain and flags of the committed binaries."
    echo "gcc: $("$CC" --version | head -n1)"
    echo "g++: $("${CXX:-g++}" --version | head -n1)"
    echo "ld: $(ld --version | head -n1)"
    echo "libc: $(ldd --version | head -n1)"
    echo "main: $MAIN_CFLAGS $MAIN_LDFLAGS" | sed "s|-ffile-prefix-map=[^ ]*|-ffile-prefix-map=<corpus>=corpus|"
    echo "patch.so: $PATCH_CFLAGS $PATCH_LDFLAGS" | sed "s|-ffile-prefix-map=[^ ]*|-ffile-prefix-map=<corpus>=corpus|"
    echo "# Per-scenario commands and asserted shapes (relative to each scenario folder):"
    grep -v '^     ' "$log"
} >"$out/BUILDINFO"
echo "corpus: built $(echo $SCENARIOS | wc -w) scenarios and $(echo $REAL | wc -w) real programs into $out"
