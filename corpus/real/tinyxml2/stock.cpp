// The business function with the bug: it ignores the per="N" box size, so a box
// of 50 bolts counts as one bolt.
#include "stock.h"

__attribute__((noipa)) void tally_item(std::map<std::string, long> &totals, const tinyxml2::XMLElement *item)
{
    const char *sku = item->Attribute("sku");
    if (sku == nullptr)
        return;
    totals[sku] += item->Int64Attribute("qty", 0);
}
