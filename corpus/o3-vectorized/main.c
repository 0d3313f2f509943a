/* The running process: each iteration scores a volley of UNITS units (not a
   multiple of the vector width, so the vector loop and its scalar tail both
   run) and sleeps; SIGUSR1 runs the seed's handler (common/fix-table-handler.c).
   The roster is a constant table plus the iteration's bonus: an initialisation
   computed with % would be vectorised too, with psrlq, which the sandbox's CPU
   core does not decode yet (see README.md). */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hotfix.h"
#include "score.h"

#define UNITS 37

static const int roster_base[UNITS] = {
    3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2, 4,
    1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0,
};
static const int roster_multiplier[UNITS] = {
    1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1,
    2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1,
};
static int base[UNITS];

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        for (int u = 0; u < UNITS; u++)
            base[u] = roster_base[u] + (i & 1);
        printf("volley %d damage %d\n", i, volley_damage(base, roster_multiplier, UNITS));
        usleep(10000);
    }
    return 0;
}
