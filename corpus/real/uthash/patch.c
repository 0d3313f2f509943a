/* The hot fix: count words case-insensitively (lower-case keys). count_words is an
   undefined reference here, bound at dlopen time to the running copy in main
   (-rdynamic). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hotfix.h"
#include "words.h"

void count_words_fixed(struct word **table, const char *text)
{
    char buf[32];
    size_t len = 0;

    for (const char *p = text;; p++) {
        if (isalpha((unsigned char)*p)) {
            if (len < sizeof buf - 1)
                buf[len++] = (char)tolower((unsigned char)*p);
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

struct fix_entry fix_table = { (void *)count_words_fixed, (void *)count_words };
