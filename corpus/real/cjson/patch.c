/* The hot fix: price with the number's double value. order_total is an undefined
   reference here, bound at dlopen time to the running copy in main (-rdynamic);
   the cJSON functions likewise bind to main's. */
#include "hotfix.h"
#include "orders.h"

double order_total_fixed(const cJSON *order)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(order, "items");
    const cJSON *item;
    double total = 0;

    cJSON_ArrayForEach(item, items) {
        const cJSON *price = cJSON_GetObjectItemCaseSensitive(item, "price");
        const cJSON *qty = cJSON_GetObjectItemCaseSensitive(item, "qty");
        if (cJSON_IsNumber(price) && cJSON_IsNumber(qty))
            total += price->valuedouble * qty->valuedouble;
    }
    return total;
}

struct fix_entry fix_table = { (void *)order_total_fixed, (void *)order_total };
