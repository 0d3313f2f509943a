/* The hot fix: the fixed function and the table the handler reads. The old
   function is an undefined reference here, bound at dlopen time to the
   executable's exported need_fix_func. */
#include <stdio.h>

#include "app.h"
#include "hotfix.h"

void fix_func(int times)
{
    printf("after fix cur times %d\n", times);
}

struct fix_entry fix_table = { (void *)fix_func, (void *)need_fix_func };
