// The warehouse's stock tally: the hot-fix target.
#ifndef STOCK_H
#define STOCK_H

#include <map>
#include <string>

#include "upstream/tinyxml2.h"

// Add one <item sku=".." qty=".." [per=".."]/> to the per-SKU totals (in units:
// qty counts boxes of `per` units when per is given).
void tally_item(std::map<std::string, long> &totals, const tinyxml2::XMLElement *item);

#endif
