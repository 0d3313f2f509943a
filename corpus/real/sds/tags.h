/* The tag normaliser: the hot-fix target. */
#ifndef TAGS_H
#define TAGS_H

#include <string.h>

#include "upstream/sds.h"

/* "Red, green,,BLUE " -> "red|green|blue": split at commas, trim, lower-case,
   join with '|'. The caller frees the result with sdsfree. */
sds normalize_tags(const char *raw);

#endif
