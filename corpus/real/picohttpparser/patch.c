/* The hot fix: compare header names case-insensitively. handle_request is an
   undefined reference here, bound at dlopen time to the running copy in main
   (-rdynamic). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handler.h"
#include "hotfix.h"

size_t handle_request_fixed(const char *method, size_t method_len, const char *path, size_t path_len,
                            const struct phr_header *headers, size_t num_headers, char *out, size_t cap)
{
    const char *user = "stranger";
    int user_len = (int)strlen(user);
    char body[128];

    for (size_t i = 0; i != num_headers; i++) {
        if (headers[i].name_len == 6 && strncasecmp(headers[i].name, "x-user", 6) == 0) {
            user = headers[i].value;
            user_len = (int)headers[i].value_len;
        }
    }
    int body_len = snprintf(body, sizeof body, "Hello, %.*s! (%.*s %.*s, %zu headers)", user_len, user, (int)method_len,
                            method, (int)path_len, path, num_headers);
    return (size_t)snprintf(out, cap,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
                            body_len, body);
}

struct fix_entry fix_table = { (void *)handle_request_fixed, (void *)handle_request };
