/* Handles two events per iteration; SIGUSR1 patches handle_events through
   patch.so's fix_table. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hotfix.h"

int handle_events(void);
extern int raise_at_event;

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
#ifdef WAIT_BLOCKS
    /* The signal arrives during the first wait of iteration raise_at. */
    raise_at_event = raise_at >= 0 ? 2 * raise_at + 1 : -1;
#endif
    for (int i = 0; i < iterations; i++) {
#ifndef WAIT_BLOCKS
        if (i == raise_at)
            raise(SIGUSR1);
#endif
        printf("iteration %d handled %d\n", i, handle_events());
#ifndef WAIT_BLOCKS
        usleep(10000);
#endif
    }
    return 0;
}
