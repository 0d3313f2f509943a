/* The hot fix: the bulk discount from three items on. handle_request is an undefined
   reference here, bound at dlopen time to the running copy in main (-rdynamic). */
#include <stdio.h>

#include "handler.h"
#include "hotfix.h"

size_t handle_request_fixed(const char *request, char *out, size_t cap)
{
    int item = 0, qty = 0;
    if (sscanf(request, "GET /quote?item=%d&qty=%d ", &item, &qty) != 2 || item < 0 || item > 3 || qty < 0)
        return (size_t)snprintf(out, cap, "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    int total = unit_price[item] * qty;
    if (qty >= 3)
        total -= total / 10;
    return quote_response(out, cap, item, qty, total);
}

struct fix_entry fix_table = { (void *)handle_request_fixed, (void *)handle_request };
