/* The running process: a bounded main loop; on SIGUSR1 the seed's handler
   (common/fix-table-handler.c) loads ./patch.so, reads its exported
   {new, old} fix table and patches old. */
#include <signal.h>
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
        need_fix_func(i);
        usleep(10000);
    }
    return 0;
}
