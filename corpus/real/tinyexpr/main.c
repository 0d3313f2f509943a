/* A dashboard that evaluates user formulas with tinyexpr: every round it compiles
   each formula with the variables t (round progress) and load, and the host function
   lerp, evaluates it, and prints the values. On SIGUSR1 the seed's handler
   (corpus/common) loads ./patch.so and patches lerp. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "upstream/tinyexpr.h"

#include "curves.h"
#include "hotfix.h"

static const char *const formulas[] = {
    "lerp(10, 20, t)",
    "sqrt(load^2 + 9) + lerp(0, 100, t) / 4",
    "floor(lerp(-1, 1, t) * 1000) / 1000 + load % 2 + ncr(5, 2)",
};

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);
    double t = 0, load = 0;
    te_variable vars[] = {
        { "t", &t, TE_VARIABLE, NULL },
        { "load", &load, TE_VARIABLE, NULL },
        { "lerp", (const void *)lerp, TE_FUNCTION3 | TE_FLAG_PURE, NULL },
    };

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        t = (i % 5) / 4.0;
        load = 1.5 * (i % 4);
        printf("round %d (t=%g load=%g):", i, t, load);
        for (unsigned f = 0; f < sizeof formulas / sizeof formulas[0]; f++) {
            int error = 0;
            te_expr *expr = te_compile(formulas[f], vars, 3, &error);
            if (expr == NULL) {
                printf(" [error at %d]", error);
                continue;
            }
            printf(" %.6g", te_eval(expr));
            te_free(expr);
        }
        printf("\n");
        usleep(10000);
    }
    return 0;
}
