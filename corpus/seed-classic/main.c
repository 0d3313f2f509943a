/* The running process: a bounded main loop and a SIGUSR1 handler that loads
   ./patch.so, reads its exported {new, old} fix table and patches old. */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "app.h"
#include "hotfix.h"

static void on_sigusr1(int signo)
{
    (void)signo;
    puts("do fix");
    void *patch = hotfix_load("./patch.so");
    if (patch == NULL)
        return;
    struct fix_entry *fix = dlsym(patch, "fix_table");
    if (fix == NULL) {
        printf("dlsym fix_table failed: %s\n", dlerror());
        return;
    }
    printf("fix result %d\n", hotfix_apply(fix->old_func, fix->new_func));
}

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    signal(SIGUSR1, on_sigusr1);
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        need_fix_func(i);
        usleep(10000);
    }
    return 0;
}
