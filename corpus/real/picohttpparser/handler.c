/* The handler with the bug: it looks for the X-User header with a case-sensitive
   comparison of the lower-case name, but HTTP header names are case-insensitive and
   the client sends "X-User", so every user is greeted as a stranger. */
#include <stdio.h>
#include <string.h>

#include "handler.h"

__attribute__((noipa)) size_t handle_request(const char *method, size_t method_len, const char *path, size_t path_len,
                                             const struct phr_header *headers, size_t num_headers, char *out, size_t cap)
{
    const char *user = "stranger";
    int user_len = (int)strlen(user);
    char body[128];

    for (size_t i = 0; i != num_headers; i++) {
        if (headers[i].name_len == 6 && memcmp(headers[i].name, "x-user", 6) == 0) {
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
