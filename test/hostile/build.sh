#!/usr/bin/env bash
# Builds the hostile guests of hostile.test.ts into test/hostile/bin (committed, so tests need
# no compiler). Each guest is src/hostile.c with one -DHOSTILE_<NAME>; plus an ifunc target,
# a PIE given as patch.so, and a main whose PT_INTERP was turned into PT_NULL.
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
out=$here/bin
mkdir -p "$out"
CC=${CC:-gcc}
# -fno-builtin: memset/printf stay calls (the stubs' host work is what is tested).
CFLAGS="-O2 -fPIE -fno-builtin -fno-tree-loop-distribute-patterns -fno-stack-protector -fcf-protection=none -ffile-prefix-map=$here=test/hostile"
LDFLAGS="-pie -rdynamic -Wl,-z,now"

for name in mmap-untouched mmap-huge touch malloc-touch memset-loop printf-precision printf-width write-huge write-loop syscall-loop spin terminal; do
    macro=HOSTILE_$(echo "$name" | tr 'a-z-' 'A-Z_')
    "$CC" $CFLAGS -D"$macro" "$here/src/hostile.c" $LDFLAGS -o "$out/$name"
done
"$CC" $CFLAGS -fpic "$here/src/patch.c" -shared -Wl,-z,now -o "$out/patch.so"
"$CC" $CFLAGS "$here/src/ifunc.c" $LDFLAGS -o "$out/ifunc"
"$CC" $CFLAGS "$here/src/pie-patch.c" $LDFLAGS -o "$out/pie-patch.so"

# no-interp: mmap-untouched with its PT_INTERP program header's p_type set to PT_NULL (0).
cp "$out/mmap-untouched" "$out/no-interp"
python3 - "$out/no-interp" <<'PY'
import struct, sys
path = sys.argv[1]
b = bytearray(open(path, 'rb').read())
phoff, = struct.unpack_from('<Q', b, 0x20)
phnum, = struct.unpack_from('<H', b, 0x38)
for i in range(phnum):
    at = phoff + i * 56
    if struct.unpack_from('<I', b, at)[0] == 3:  # PT_INTERP
        struct.pack_into('<I', b, at, 0)
open(path, 'wb').write(b)
PY

# Shapes the tests rely on.
readelf -lW "$out/no-interp" | grep -q 'Requesting program interpreter' && { echo "no-interp still has PT_INTERP" >&2; exit 1; }
readelf -hW "$out/pie-patch.so" | grep -q 'DYN' || { echo "pie-patch.so is not ET_DYN" >&2; exit 1; }
readelf -dW "$out/pie-patch.so" | grep -q 'PIE' || { echo "pie-patch.so has no DF_1_PIE" >&2; exit 1; }
readelf --dyn-syms -W "$out/ifunc" | grep -q 'IFUNC.*target' || { echo "ifunc does not export an IFUNC target" >&2; exit 1; }
echo "hostile: built $(ls "$out" | wc -l) files into $out"
