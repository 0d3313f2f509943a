/* A patch built for another release: it defines a fix, but not the one asked for. */
#include <stdio.h>

void other_fix_func(int times)
{
    printf("other fix cur times %d\n", times);
}
