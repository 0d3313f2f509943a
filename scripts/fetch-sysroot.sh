#!/usr/bin/env bash
# The browser page's bundled sysroot: the pinned Debian 12 packages libc6, libstdc++6 and
# libgcc-s1 (and gcc-12-base, which holds the copyright file the GCC packages point to),
# fetched with `apt-get download`, checked against the pinned SHA-256, extracted with
# `dpkg-deb -x`, and cut down to what ld.so needs: ld-linux-x86-64.so.2, libc.so.6, libm.so.6,
# libstdc++.so.6, libgcc_s.so.1 (no ld.so.cache: ld.so searches its default directories).
# Output, in .cache/sysroot/ (gitignored):
#   root/          the files, at their Debian paths (also a --sysroot for the command line)
#   sysroot.tar    root/ as a deterministic ustar archive: what the page loads
#   notices/       each package's /usr/share/doc/<package>/copyright
#   manifest.json  the packages, versions and files, for the page
# Idempotent: does nothing when the manifest matches the pins. Exit 1 with one line on
# stderr when it cannot get them (no apt-get, no network, a pinned version gone from the
# archive: bump the pins below to the new point release).
set -euo pipefail
cd "$(dirname "$0")/.."

# package version sha256 (the .deb as the archive serves it)
PINS='libc6 2.36-9+deb12u14 ba4f88f73dbc3ae9055f3c20f4523bfdbaf1ad13ff95e258924f77d20b4fbedf
libstdc++6 12.2.0-14+deb12u1 5cd3171216d4ab0fc911cfe9c35509bf2dd8f47761c43b7f6a4296701551a24d
libgcc-s1 12.2.0-14+deb12u1 3016e62cb4b7cd8038822870601f5ed131befe942774d0f745622cc77d8a88f7
gcc-12-base 12.2.0-14+deb12u1 1896a2aacf4ad681ff5eacc24a5b0ca4d5d9c9b9c9e4b6de5197bc1e116ea619'

# What ld.so needs, at the paths the packages install them (the lib64 link as libc6 ships it).
FILES='lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
lib/x86_64-linux-gnu/libc.so.6
lib/x86_64-linux-gnu/libm.so.6
lib/x86_64-linux-gnu/libgcc_s.so.1
usr/lib/x86_64-linux-gnu/libstdc++.so.6'

OUT=.cache/sysroot
PIN_ID=$(printf '%s\n%s\n' "$PINS" "$FILES" | sha256sum | cut -c1-16)

fail() {
  echo "fetch-sysroot: $*" >&2
  exit 1
}

if [ -f "$OUT/manifest.json" ] && [ -f "$OUT/sysroot.tar" ] && grep -q "\"pins\": \"$PIN_ID\"" "$OUT/manifest.json"; then
  echo "fetch-sysroot: $OUT is up to date (Debian 12: $(echo "$PINS" | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}'))"
  exit 0
fi

command -v apt-get >/dev/null || fail 'no apt-get on this machine (the bundled sysroot needs Debian packages)'
command -v dpkg-deb >/dev/null || fail 'no dpkg-deb on this machine'

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs" "$work/x"
specs=$(echo "$PINS" | awk '{printf "%s%s=%s", (NR > 1 ? " " : ""), $1, $2}')
# shellcheck disable=SC2086
if ! (cd "$work/debs" && apt-get download -q $specs >"$work/apt.log" 2>&1); then
  reason=$(grep -E '^E:' "$work/apt.log" | head -1 || true)
  fail "apt-get download $specs failed: ${reason:-see the output of apt-get} (offline, or the pinned versions left the archive: run apt-get update, or bump the pins in scripts/fetch-sysroot.sh)"
fi

while read -r name version sha; do
  deb=$(ls "$work/debs/${name}_"*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || fail "apt-get download gave no .deb for $name"
  actual=$(sha256sum "$deb" | cut -d' ' -f1)
  [ "$actual" = "$sha" ] || fail "$name $version: SHA-256 $actual, pinned $sha"
  dpkg-deb -x "$deb" "$work/x"
done <<<"$PINS"

rm -rf "$OUT.new"
mkdir -p "$OUT.new/root/lib64" "$OUT.new/notices"
while read -r file; do
  mkdir -p "$OUT.new/root/$(dirname "$file")"
  # Symlinks in the package (libstdc++.so.6 -> libstdc++.so.6.0.30) become the file they name.
  cp -L "$work/x/$file" "$OUT.new/root/$file"
done <<<"$FILES"
cp -P "$work/x/lib64/ld-linux-x86-64.so.2" "$OUT.new/root/lib64/"
# libstdc++6 and libgcc-s1 ship /usr/share/doc/<package> as a link to gcc-12-base: one notice
# per copyright file, and each package names the one that covers it.
packages=''
while read -r name version sha; do
  doc="$work/x/usr/share/doc/$name"
  owner=$name
  [ -L "$doc" ] && owner=$(basename "$(readlink "$doc")")
  [ -f "$work/x/usr/share/doc/$owner/copyright" ] || fail "$name: no /usr/share/doc/$owner/copyright in the packages"
  cp "$work/x/usr/share/doc/$owner/copyright" "$OUT.new/notices/$owner.copyright.txt"
  packages="$packages${packages:+,
}    { \"name\": \"$name\", \"version\": \"$version\", \"sha256\": \"$sha\", \"notice\": \"$owner.copyright.txt\" }"
done <<<"$PINS"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=ustar -cf "$OUT.new/sysroot.tar" -C "$OUT.new/root" lib lib64 usr

{
  echo '{'
  echo "  \"pins\": \"$PIN_ID\","
  echo '  "distribution": "Debian 12 (bookworm)",'
  echo '  "packages": ['
  echo "$packages"
  echo '  ],'
  echo '  "files": ['
  { echo "lib64/ld-linux-x86-64.so.2"; echo "$FILES"; } | awk '{printf "%s    \"/%s\"", (NR > 1 ? ",\n" : ""), $1} END {print ""}'
  echo '  ]'
  echo '}'
} >"$OUT.new/manifest.json"

rm -rf "$OUT"
mv "$OUT.new" "$OUT"
echo "fetch-sysroot: $OUT: $(du -k "$OUT/sysroot.tar" | cut -f1) KiB sysroot.tar from Debian 12 $(echo "$PINS" | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}')"
