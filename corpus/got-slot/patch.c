/* The hot fix: compute_damage version 2, built into patch.so. */
#include <stdio.h>

int compute_damage(int level)
{
    printf("compute_damage v2 level %d\n", level);
    return level * 4;
}
