/* The hot fix: take only the [server] section. on_setting is an undefined
   reference here, bound at dlopen time to the running copy in main (-rdynamic). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotfix.h"
#include "settings.h"

int on_setting_fixed(void *user, const char *section, const char *name, const char *value)
{
    struct settings *s = user;

    s->seen++;
    if (strcmp(section, "server") != 0)
        return 1;
    if (strcmp(name, "host") == 0)
        snprintf(s->host, sizeof s->host, "%s", value);
    else if (strcmp(name, "port") == 0)
        s->port = atoi(value);
    else if (strcmp(name, "workers") == 0)
        s->workers = atoi(value);
    return 1;
}

struct fix_entry fix_table = { (void *)on_setting_fixed, (void *)on_setting };
