/* The normaliser with the bug: it keeps the empty fields of ",," and trailing
   commas, so the joined tags contain empty names ("red||blue|"). */
#include "tags.h"

__attribute__((noipa)) sds normalize_tags(const char *raw)
{
    int count = 0;
    sds *fields = sdssplitlen(raw, (ssize_t)strlen(raw), ",", 1, &count);
    sds out = sdsempty();

    for (int i = 0; i < count; i++) {
        sdstrim(fields[i], " \t");
        sdstolower(fields[i]);
        if (i > 0)
            out = sdscatlen(out, "|", 1);
        out = sdscatsds(out, fields[i]);
    }
    sdsfreesplitres(fields, count);
    return out;
}
