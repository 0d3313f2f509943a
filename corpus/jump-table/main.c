/* Runs a small bytecode program every iteration; SIGUSR1 patches run_program
   through patch.so's fix_table. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hotfix.h"

int run_program(const unsigned char *code);

static const unsigned char program[] = { 5, 1, 2, 1, 5, 0 };

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        printf("iteration %d result %d\n", i, run_program(program));
        usleep(10000);
    }
    return 0;
}
