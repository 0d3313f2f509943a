/* The seed's main loop and fix-table handler, plus one line of evidence: whether
   a 5-byte `jmp rel32` at the old function could reach the new one. */
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "hotfix.h"

void need_fix_func(int times);

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
    /* rel32 is relative to the end of the 5-byte jmp. */
    int64_t displacement = (int64_t)((intptr_t)fix->new_func - ((intptr_t)fix->old_func + 5));
    printf("rel32 reach: %s\n", displacement == (int32_t)displacement ? "in range" : "out of range");
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
