/* The request handler the pool's workers run. The bug: the bulk discount (10% off from three
   items) is given only above three items, so an order of exactly three pays full price. */
#include <stdio.h>

#include "handler.h"

const int unit_price[4] = { 250, 400, 1000, 75 };

size_t quote_response(char *out, size_t cap, int item, int qty, int total)
{
    char body[96];
    int body_len = snprintf(body, sizeof body, "item %d x %d = %d cents", item, qty, total);
    return (size_t)snprintf(out, cap, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", body_len, body);
}

size_t handle_request(const char *request, char *out, size_t cap)
{
    int item = 0, qty = 0;
    if (sscanf(request, "GET /quote?item=%d&qty=%d ", &item, &qty) != 2 || item < 0 || item > 3 || qty < 0)
        return (size_t)snprintf(out, cap, "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    int total = unit_price[item] * qty;
    if (qty > 3)
        total -= total / 10;
    return quote_response(out, cap, item, qty, total);
}
