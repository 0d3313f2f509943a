/* The HTTP server's request handler: the hot-fix target. */
#ifndef HANDLER_H
#define HANDLER_H

#include <stddef.h>

/* Prices a quote request ("GET /quote?item=I&qty=Q ..."): writes the whole HTTP response
   into out (at most cap bytes) and returns its length. */
size_t handle_request(const char *request, char *out, size_t cap);

/* The response body for item and quantity (shared by the fix). */
size_t quote_response(char *out, size_t cap, int item, int qty, int total);

/* Unit prices, in cents. */
extern const int unit_price[4];

#endif
