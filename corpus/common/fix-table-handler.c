/* The seed's SIGUSR1 handler, shared by scenarios whose subject is the target
   function rather than the patcher: load ./patch.so, read its {new, old}
   fix_table, patch. */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>

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

void hotfix_install_handler(void)
{
    signal(SIGUSR1, on_sigusr1);
}
