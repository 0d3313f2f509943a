/* The handler with the bug: it ignores the section, so the [backup] server's port
   overrides the main server's. inih calls it through a function pointer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

__attribute__((noipa)) int on_setting(void *user, const char *section, const char *name, const char *value)
{
    struct settings *s = user;

    (void)section;
    s->seen++;
    if (strcmp(name, "host") == 0)
        snprintf(s->host, sizeof s->host, "%s", value);
    else if (strcmp(name, "port") == 0)
        s->port = atoi(value);
    else if (strcmp(name, "workers") == 0)
        s->workers = atoi(value);
    return 1;
}
