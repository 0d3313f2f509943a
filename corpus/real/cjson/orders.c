/* The business function with the bug: prices are fractional, but it reads
   cJSON's integer view of them (valueint), so 2.75 counts as 2. */
#include "orders.h"

__attribute__((noipa)) double order_total(const cJSON *order)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(order, "items");
    const cJSON *item;
    double total = 0;

    cJSON_ArrayForEach(item, items) {
        const cJSON *price = cJSON_GetObjectItemCaseSensitive(item, "price");
        const cJSON *qty = cJSON_GetObjectItemCaseSensitive(item, "qty");
        if (cJSON_IsNumber(price) && cJSON_IsNumber(qty))
            total += price->valueint * qty->valueint;
    }
    return total;
}
