/* The server's hot loop, with the bug the patch fixes: armour is never
   subtracted, so every unit deals its full base * multiplier. At -O3 with
   -march=x86-64-v2 gcc vectorises the loop (pmulld/paddd over movdqu loads). */
#include "score.h"

__attribute__((noipa)) int volley_damage(const int *base, const int *multiplier, int units)
{
    int total = 0;
    for (int i = 0; i < units; i++)
        total += base[i] * multiplier[i];
    return total;
}
