/* The order service's pricing function: the hot-fix target. */
#ifndef ORDERS_H
#define ORDERS_H

#include "upstream/cJSON.h"

/* The order's total (sum of price * qty over its "items"), in currency units. */
double order_total(const cJSON *order);

#endif
