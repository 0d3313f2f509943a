/* The word counter's table and its counting function: the hot-fix target. */
#ifndef WORDS_H
#define WORDS_H

#include "upstream/uthash.h"

struct word {
    char text[32]; /* the key */
    int count;
    UT_hash_handle hh;
};

/* Count the words of text (letters only) into the uthash table at *table. */
void count_words(struct word **table, const char *text);

#endif
