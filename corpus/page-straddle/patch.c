/* The hot fix, seed style: fixed function plus {new, old} table. */
#include <stdio.h>

#include "hotfix.h"

void need_fix_func(int times);

void fix_func(int times)
{
    printf("after fix cur times %d\n", times);
}

struct fix_entry fix_table = { (void *)fix_func, (void *)need_fix_func };
