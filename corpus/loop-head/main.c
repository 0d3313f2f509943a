/* Sums a three-order list every iteration; SIGUSR1 patches total_amount
   through patch.so's fix_table. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hotfix.h"

struct order {
    struct order *next;
    int amount;
};

int total_amount(const struct order *order);

static struct order third = { 0, 30 };
static struct order second = { &third, 20 };
static struct order first = { &second, 10 };

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        printf("iteration %d total %d\n", i, total_amount(&first));
        usleep(10000);
    }
    return 0;
}
