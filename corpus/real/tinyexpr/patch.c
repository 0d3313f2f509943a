/* The hot fix: lerp from a to b. lerp is an undefined reference here, bound at
   dlopen time to the running copy in main (-rdynamic). */
#include "curves.h"
#include "hotfix.h"

double lerp_fixed(double a, double b, double t)
{
    return a + (b - a) * t;
}

struct fix_entry fix_table = { (void *)lerp_fixed, (void *)lerp };
