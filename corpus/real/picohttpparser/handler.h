/* The HTTP server's request handler: the hot-fix target. */
#ifndef HANDLER_H
#define HANDLER_H

#include <stddef.h>

#include "upstream/picohttpparser.h"

/* Write the response to a parsed request into out (at most cap bytes); returns
   its length. */
size_t handle_request(const char *method, size_t method_len, const char *path, size_t path_len,
                      const struct phr_header *headers, size_t num_headers, char *out, size_t cap);

#endif
