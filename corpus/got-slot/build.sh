#!/usr/bin/env bash
set -euo pipefail
SCENARIO=got-slot
. ../lib/build-lib.sh
OUT=$(scenario_out "${1:-.}")

# libgame.so next to main, found through RUNPATH $ORIGIN as ld.so would.
run_cc $PATCH_CFLAGS libgame.c -Wl,-soname,libgame.so $PATCH_LDFLAGS -o "$OUT/libgame.so"
run_cc $PATCH_CFLAGS patch.c $PATCH_LDFLAGS -o "$OUT/patch.so"
GAME="-L$OUT/ -lgame -Wl,-rpath,\$ORIGIN,--enable-new-dtags"
COMMON="main.c got-patch.c ../common/hotfix.c"
run_cc $MAIN_CFLAGS $COMMON $MAIN_LDFLAGS $GAME -o "$OUT/main"
run_cc $MAIN_CFLAGS -DCALL_GAME_TICK $COMMON $MAIN_LDFLAGS $GAME -o "$OUT/main-internal"
run_cc $MAIN_CFLAGS -DCALLBACK_TABLE $COMMON $MAIN_LDFLAGS $GAME -o "$OUT/main-callback"
run_cc $MAIN_CFLAGS -DGOT_PATCH_NO_MPROTECT $COMMON $MAIN_LDFLAGS $GAME -o "$OUT/main-relro"
# Lazy binding (-z lazy after the corpus's -z now: partial RELRO): the slot is in .got.plt,
# writable, bound at the first call; the handler still restores the page to read-only.
run_cc $MAIN_CFLAGS $COMMON $MAIN_LDFLAGS -Wl,-z,lazy $GAME -o "$OUT/main-lazy"

for m in main main-internal main-callback main-relro; do
    slot=R_X86_64_JUMP_SLOT
    # Its address taken too: ld gives the PLT (.plt.got) the one GLOB_DAT slot.
    [ "$m" = main-callback ] && slot=R_X86_64_GLOB_DAT
    dyn=$(readelf -d "$OUT/$m")
    grep -q 'NEEDED.*\[libgame.so\]' <<<"$dyn" || fail "$m does not need libgame.so"
    grep -q 'RUNPATH.*\[\$ORIGIN\]' <<<"$dyn" || fail "$m has no RUNPATH \$ORIGIN"
    grep -q 'FLAGS.*BIND_NOW' <<<"$dyn" || fail "$m is not linked -z now (full RELRO)"
    grep -q "$slot.* compute_damage" <<<"$(readelf -rW "$OUT/$m")" || fail "$m does not call compute_damage through its $slot"
    ! grep -qw compute_damage <<<"$(nm --defined-only "$OUT/$m")" || fail "$m defines compute_damage"
done
echo "  asserted: every main needs libgame.so (RUNPATH \$ORIGIN, BIND_NOW) and calls compute_damage through R_X86_64_JUMP_SLOT"
echo "  asserted: main-callback calls and takes its address through one R_X86_64_GLOB_DAT slot (.plt.got)"
dyn=$(readelf -d "$OUT/main-lazy")
grep -q 'NEEDED.*\[libgame.so\]' <<<"$dyn" || fail "main-lazy does not need libgame.so"
! grep -q 'BIND_NOW' <<<"$dyn" || fail "main-lazy is linked -z now"
slot=$(readelf -rW "$OUT/main-lazy" | awk '/R_X86_64_JUMP_SLOT.* compute_damage/ { print $1 }')
[ -n "$slot" ] || fail "main-lazy does not call compute_damage through R_X86_64_JUMP_SLOT"
gotplt=$(readelf -SW "$OUT/main-lazy" | awk '$2 == ".got.plt" { print $4, $6 }')
[ -n "$gotplt" ] || fail "main-lazy has no .got.plt"
read -r start size <<<"$gotplt"
(( 0x$slot >= 0x$start && 0x$slot < 0x$start + 0x$size )) || fail "main-lazy's slot for compute_damage is not in .got.plt"
read -r relro_at relro_size <<<"$(readelf -lW "$OUT/main-lazy" | awk '$1 == "GNU_RELRO" { print $3, $6 }')"
(( 0x$slot >= relro_at + relro_size )) || fail "main-lazy's slot for compute_damage is inside PT_GNU_RELRO"
echo "  asserted: main-lazy is lazily bound (no BIND_NOW); its JUMP_SLOT for compute_damage is in .got.plt, past PT_GNU_RELRO"

# game_tick calls compute_damage directly (the hidden alias), not through the PLT.
cd_addr=$(sym_addr "$OUT/libgame.so" compute_damage)
grep -Eq "call +${cd_addr#"${cd_addr%%[!0]*}"} " <<<"$(func_insns "$OUT/libgame.so" game_tick)" || fail "game_tick does not call compute_damage directly"
! grep -q ' compute_damage' <<<"$(readelf -rW "$OUT/libgame.so")" || fail "libgame.so has a relocation for compute_damage"
echo "  asserted: libgame.so's game_tick calls compute_damage directly (no relocation, no PLT)"
show_func "$OUT/libgame.so" game_tick
