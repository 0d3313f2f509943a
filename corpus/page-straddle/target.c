/* need_fix_func placed 6 bytes before a page boundary, so the 12 bytes a
   trampoline replaces lie on two pages. The top-level asm is layout padding
   only: it fills .text.straddle from a page boundary up to the function. */
#include <stdio.h>

__asm__(".pushsection .text.straddle,\"ax\",@progbits\n"
        "\t.balign 4096\n"
        "\t.skip 4090, 0xcc\n"
        "\t.popsection\n");

__attribute__((noipa, section(".text.straddle"))) void need_fix_func(int times)
{
    printf("before fix cur times %d\n", times);
}
