/* need_fix_func is small and defined next to its hot caller, so gcc -O2
   inlines it into the main loop; the exported out-of-line copy only runs once,
   through a startup hook. Patching that copy changes nothing the loop does. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hotfix.h"

void need_fix_func(int times)
{
    printf("before fix cur times %d\n", times);
}

/* volatile: the startup call really goes through the pointer, to the out-of-line copy. */
static void (*volatile startup_hook)(int) = need_fix_func;

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    startup_hook(-1);
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        need_fix_func(i);
        usleep(10000);
    }
    return 0;
}
