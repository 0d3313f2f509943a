/* The fix: the level is computed differently. */
#include "hotfix.h"

int get_level(void);

int fix_get_level(void)
{
    return 42;
}

struct fix_entry fix_table = { (void *)fix_get_level, (void *)get_level };
