/* A word-frequency service on uthash: every round it counts the words of the next
   document into a hash table with count_words, sorts the table by count (HASH_SORT)
   and prints the top words. On SIGUSR1 the seed's handler (corpus/common) loads
   ./patch.so and patches count_words. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotfix.h"
#include "words.h"

static const char *const documents[] = {
    "The cat sat on the mat. The mat was warm, and the cat was happy.",
    "To be, or not to be: that is the question. To sleep, perchance to dream.",
    "It was the best of times, it was the worst of times; It was the age of wisdom.",
};

static int by_count(struct word *a, struct word *b)
{
    if (a->count != b->count)
        return b->count - a->count;
    return strcmp(a->text, b->text);
}

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        struct word *table = NULL, *w, *tmp;
        count_words(&table, documents[i % 3]);
        HASH_SORT(table, by_count);
        printf("round %d: %u distinct, top:", i, HASH_COUNT(table));
        int shown = 0;
        HASH_ITER(hh, table, w, tmp) {
            if (shown++ < 4)
                printf(" %s=%d", w->text, w->count);
            HASH_DEL(table, w);
            free(w);
        }
        printf("\n");
        usleep(10000);
    }
    return 0;
}
