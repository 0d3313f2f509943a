/* Calls the short target and its neighbour every iteration; SIGUSR1 patches
   get_level through patch.so's fix_table. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hotfix.h"

int get_level(void);
int get_bonus(void);

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        int level = get_level();
        printf("iteration %d level %d\n", i, level);
        printf("iteration %d bonus %d\n", i, get_bonus());
        usleep(10000);
    }
    return 0;
}
