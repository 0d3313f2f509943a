/* A log indexer on sds (Simple Dynamic Strings): every round it takes the next
   incoming record, normalises its tag list with normalize_tags, and prints an index
   line built with sdscatprintf and sdscatrepr. On SIGUSR1 the seed's handler
   (corpus/common) loads ./patch.so and patches normalize_tags. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "hotfix.h"
#include "tags.h"

static const char *const records[][2] = {
    { "disk full on /var", " Storage, ALERT ,disk" },
    { "user \"bob\" logged in", "auth,,Session, " },
    { "cache miss\tratio 0.4", ",cache , perf,,Perf" },
};

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        const char *const *record = records[i % 3];
        sds tags = normalize_tags(record[1]);
        sds line = sdscatprintf(sdsempty(), "round %d: [%s] ", i, tags);
        line = sdscatrepr(line, record[0], strlen(record[0]));
        printf("%s (%zu bytes)\n", line, sdslen(line));
        sdsfree(line);
        sdsfree(tags);
        usleep(10000);
    }
    return 0;
}
