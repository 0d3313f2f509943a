#!/usr/bin/env bash
set -euo pipefail
SCENARIO=real/picohttpparser
. ../lib.sh
OUT=$(scenario_out "${1:-.}")

# picohttpparser is compiled into main (unchanged); -rdynamic exports handle_request.
run_cc $MAIN_CFLAGS main.c handler.c upstream/picohttpparser.c $COMMON_SOURCES -rdynamic $MAIN_LDFLAGS -o "$OUT/main"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"

assert_hotfix_target "$OUT/main" "$OUT/patch.so" handle_request handle_request_fixed
# A loopback server and client in one epoll loop.
assert_imports "$OUT/main" socket bind listen getsockname connect accept4 epoll_create1 epoll_ctl epoll_wait read write close
echo "  needed: $(needed_libs "$OUT/main")"
show_func "$OUT/main" handle_request
