/* The fix: each unit's damage is reduced by the target's armour (2 per hit,
   never below zero). Built with the same -O3 -march=x86-64-v2 as main, so the
   replacement is vectorised too. */
#include "hotfix.h"
#include "score.h"

int volley_damage_fixed(const int *base, const int *multiplier, int units)
{
    int total = 0;
    for (int i = 0; i < units; i++) {
        int hit = base[i] * multiplier[i] - 2;
        total += hit > 0 ? hit : 0;
    }
    return total;
}

struct fix_entry fix_table = { (void *)volley_damage_fixed, (void *)volley_damage };
