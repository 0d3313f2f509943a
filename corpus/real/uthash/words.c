/* count_words with the bug: it keeps the words' case, so "The" and "the" are
   counted as two words. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

__attribute__((noipa)) void count_words(struct word **table, const char *text)
{
    char buf[32];
    size_t len = 0;

    for (const char *p = text;; p++) {
        if (isalpha((unsigned char)*p)) {
            if (len < sizeof buf - 1)
                buf[len++] = *p;
            continue;
        }
        if (len > 0) {
            struct word *w;
            buf[len] = '\0';
            HASH_FIND_STR(*table, buf, w);
            if (w == NULL) {
                w = calloc(1, sizeof *w);
                memcpy(w->text, buf, len + 1);
                HASH_ADD_STR(*table, text, w);
            }
            w->count++;
            len = 0;
        }
        if (*p == '\0')
            break;
    }
}
