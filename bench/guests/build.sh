#!/usr/bin/env bash
# Builds the bench guests (compress, kernel, parser, threads) and the patch.so they share, with the
# corpus's compiler flags. The ELF files are committed; rebuild only when a source changes.
set -euo pipefail
export LC_ALL=C SOURCE_DATE_EPOCH=0
cd "$(dirname "$0")"
CC=${CC:-gcc}
HARDENING="-fstack-protector-strong -fstack-clash-protection -fcf-protection=full -D_FORTIFY_SOURCE=2"
REPRO="-ffile-prefix-map=$(pwd)=bench/guests"
for guest in compress kernel parser; do
    "$CC" -O2 -fPIE $HARDENING $REPRO "$guest.c" report.c -rdynamic -pie -Wl,-z,relro,-z,now -o "$guest"
done
"$CC" -O2 -fpic $HARDENING $REPRO patch.c -shared -Wl,-z,relro,-z,now -o patch.so
# The scheduler bench's threaded guest (bench/threads.ts): real glibc, the system model.
"$CC" -O2 -fPIE $HARDENING $REPRO threads.c -pthread -pie -Wl,-z,relro,-z,now -o threads
echo "bench guests: built compress kernel parser threads patch.so with $("$CC" --version | head -n1)"
