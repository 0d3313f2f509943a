/* A server that reloads its INI configuration with inih every round (the text
   changes: the worker count follows the round) and prints what it would listen on.
   On SIGUSR1 the seed's handler (corpus/common) loads ./patch.so and patches
   on_setting. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "upstream/ini.h"

#include "hotfix.h"
#include "settings.h"

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);
    char text[512];

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        snprintf(text, sizeof text,
                 "; reloaded every round\n"
                 "[server]\n"
                 "host = 0.0.0.0\n"
                 "port = 8080\n"
                 "workers = %d ; one per core\n"
                 "\n"
                 "[backup]\n"
                 "host: 10.0.0.%d\n"
                 "port: 2222\n",
                 2 + i % 3, 10 + i);
        struct settings s = { .host = "unset", .port = 0, .workers = 1, .seen = 0 };
        int error = ini_parse_string(text, on_setting, &s);
        if (error != 0)
            printf("round %d: parse error at line %d\n", i, error);
        else
            printf("round %d: listen %s:%d with %d workers (%d settings read)\n", i, s.host, s.port, s.workers, s.seen);
        usleep(10000);
    }
    return 0;
}
