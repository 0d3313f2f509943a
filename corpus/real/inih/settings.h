/* The server's configuration and its INI handler: the hot-fix target. */
#ifndef SETTINGS_H
#define SETTINGS_H

struct settings {
    char host[64];
    int port;
    int workers;
    int seen;
};

/* inih's callback: store one name=value of [section] into the struct settings at user. */
int on_setting(void *user, const char *section, const char *name, const char *value);

#endif
