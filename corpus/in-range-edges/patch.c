/* The hot fixes: abs_scale saturating at 100, and a pc_base that takes its address the
   ordinary way. fix_table names abs_scale (the handler patches one function). */
#include "app.h"
#include "hotfix.h"

long fix_abs_scale(int x)
{
    long v = (x < 0 ? -(long)x : x) * 3 + 1;
    return v > 100 ? 100 : v;
}

long fix_pc_base(void)
{
    return (long)pc_base;
}

struct fix_entry fix_table = { (void *)fix_abs_scale, (void *)abs_scale };
