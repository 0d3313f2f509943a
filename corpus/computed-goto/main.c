/* The running process: interprets a small bytecode program per iteration. On SIGUSR1 the
   seed's handler (common/fix-table-handler.c) patches interpret with patch.so's. With
   argv[2] = K the program patches itself from inside the interpreter at iteration K: OP_POLL
   traps, the SIGTRAP handler raises SIGUSR1, and the interpreter goes on dispatching
   through its table after the patch. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "app.h"
#include "hotfix.h"

static const unsigned char program[] = { OP_DOUBLE, OP_POLL, OP_STEP, OP_DOUBLE, OP_STEP, OP_HALT };

static void on_sigtrap(int signo)
{
    (void)signo;
    raise(SIGUSR1);
}

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    signal(SIGTRAP, on_sigtrap);
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            signal_self = 1;
        printf("iteration %d result %ld\n", i, interpret(program, i));
        usleep(10000);
    }
    return 0;
}
