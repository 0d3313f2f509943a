/* The running process: calls the two hand-written kernels (kernels.S) every iteration. On
   SIGUSR1 the seed's handler (common/fix-table-handler.c) patches abs_scale. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "app.h"
#include "hotfix.h"

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        printf("iteration %d scale %ld base %s\n", i, abs_scale(i - 3), pc_base() == (long)pc_base ? "ok" : "wrong");
        usleep(10000);
    }
    return 0;
}
