#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/monocypher
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# Monocypher is compiled into main (unchanged); -rdynamic exports seal and the
# crypto API to patch.so.
run_cc $MAIN_CFLAGS main.c seal.c upstream/monocypher.c $COMMON_SOURCES -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

assert_hotfix_target "$OUT/main" "$OUT/patch.so" seal seal_fixed
dynsym_exports "$OUT/main" crypto_aead_lock || fail "main does not export crypto_aead_lock"
nm -D --undefined-only "$OUT/patch.so" | grep -w crypto_aead_lock >/dev/null || fail "patch.so does not import crypto_aead_lock"
echo "  asserted: patch.so calls main's crypto_aead_lock"
echo "  needed: $(needed_libs "$OUT/main")"
show_func "$OUT/main" seal
