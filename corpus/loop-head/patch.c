/* The fix: an empty list (NULL) no longer crashes. */
#include <stdio.h>

#include "hotfix.h"

struct order {
    struct order *next;
    int amount;
};

int total_amount(const struct order *order);

int fix_total_amount(const struct order *order)
{
    int total = 0;
    for (; order != 0; order = order->next)
        total += order->amount;
    puts("after fix: total_amount");
    return total;
}

struct fix_entry fix_table = { (void *)fix_total_amount, (void *)total_amount };
