#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/thpool-http
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# C-Thread-Pool is compiled into main (unchanged); -rdynamic exports handle_request.
run_cc $MAIN_CFLAGS main.c handler.c upstream/thpool.c $COMMON_SOURCES -rdynamic -pthread $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

assert_hotfix_target "$OUT/main" "$OUT/patch.so" handle_request handle_request_fixed
# A loopback server whose connections are served by pthread workers (the pool's condition variables, prctl names).
assert_imports "$OUT/main" socket bind listen getsockname connect accept read write close pthread_create pthread_cond_wait pthread_mutex_lock prctl sigaction
echo "  needed: $(needed_libs "$OUT/main")"
show_func "$OUT/main" handle_request
