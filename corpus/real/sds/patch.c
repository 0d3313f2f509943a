/* The hot fix: skip empty fields. normalize_tags is an undefined reference here,
   bound at dlopen time to the running copy in main (-rdynamic); the sds functions
   bind to main's. */
#include "hotfix.h"
#include "tags.h"

sds normalize_tags_fixed(const char *raw)
{
    int count = 0;
    sds *fields = sdssplitlen(raw, (ssize_t)strlen(raw), ",", 1, &count);
    sds out = sdsempty();

    for (int i = 0; i < count; i++) {
        sdstrim(fields[i], " \t");
        if (sdslen(fields[i]) == 0)
            continue;
        sdstolower(fields[i]);
        if (sdslen(out) > 0)
            out = sdscatlen(out, "|", 1);
        out = sdscatsds(out, fields[i]);
    }
    sdsfreesplitres(fields, count);
    return out;
}

struct fix_entry fix_table = { (void *)normalize_tags_fixed, (void *)normalize_tags };
