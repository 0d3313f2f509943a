/* The running process: feeds the state machine a block of inputs per iteration; on SIGUSR1
   the seed's handler (common/fix-table-handler.c) patches next_state with patch.so's. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "app.h"
#include "hotfix.h"

static const int inputs[8] = { 1, 4, 2, 7, 3, 0, 6, 5 };

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);
    struct machine m = { 0 };

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        run_machine(&m, inputs, 8);
        printf("iteration %d state %d steps %d\n", i, m.state, m.steps);
        usleep(10000);
    }
    return 0;
}
