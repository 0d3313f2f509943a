#!/usr/bin/env bash
# Build every real program (corpus/real/SCENARIOS order) into DIR/<program>/.
#   corpus/real/build.sh       build in place (the committed binaries)
#   corpus/real/build.sh DIR   build into DIR/<program>/
# corpus/build.sh calls this with DIR = <its output>/real and records the log in BUILDINFO.
set -euo pipefail
export LC_ALL=C
export SOURCE_DATE_EPOCH=0
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
out=$(cd "$out" && pwd)
for program in $(cat "$here/SCENARIOS"); do
    echo "== real/$program"
    (cd "$here/$program" && bash ./build.sh "$out/$program")
done
