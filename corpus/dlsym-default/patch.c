/* The hot fix: only the fixed function; the patcher finds both by name. */
#include <stdio.h>

void fix_func(int times)
{
    printf("after fix cur times %d\n", times);
}
