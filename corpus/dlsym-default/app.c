/* The running server's business function, with the bug the patch fixes. */
#include <stdio.h>

__attribute__((noipa)) void need_fix_func(int times)
{
    printf("before fix cur times %d\n", times);
}
