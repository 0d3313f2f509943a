/* Patcher in the style of the second seed article's replaceFunction(): the old
   function is looked up with dlsym(RTLD_DEFAULT, sym), the new one in patch.so. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hotfix.h"

void need_fix_func(int times);

static int replace_function(void *patch, const char *old_name, const char *new_name)
{
    void *new_func = dlsym(patch, new_name);
    if (new_func == NULL) {
        printf("dlsym %s failed: %s\n", new_name, dlerror());
        return -1;
    }
    void *old_func = dlsym(RTLD_DEFAULT, old_name);
    if (old_func == NULL) {
        printf("dlsym %s failed: %s\n", old_name, dlerror());
        return -1;
    }
    return hotfix_apply(old_func, new_func);
}

static void on_sigusr1(int signo)
{
    (void)signo;
    puts("do fix");
    void *patch = hotfix_load("./patch.so");
    if (patch == NULL)
        return;
    printf("fix result %d\n", replace_function(patch, "need_fix_func", "fix_func"));
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
