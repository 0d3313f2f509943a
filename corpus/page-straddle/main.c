/* The seed's main loop; SIGUSR1 patches need_fix_func through patch.so's
   fix_table, protecting HOTFIX_PROTECT_PAGES pages. */
#include <signal.h>
#include <unistd.h>

#include "hotfix.h"

void need_fix_func(int times);

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        need_fix_func(i);
        usleep(10000);
    }
    return 0;
}
