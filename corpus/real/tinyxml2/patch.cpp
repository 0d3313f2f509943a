// The hot fix: count boxes of per="N" units. tally_item is an undefined reference
// here, bound at dlopen time to the running copy in main (-rdynamic); the TinyXML2
// and std::map code binds to main's and libstdc++'s.
#include "stock.h"

extern "C" {
#include "hotfix.h"
}

void tally_item_fixed(std::map<std::string, long> &totals, const tinyxml2::XMLElement *item)
{
    const char *sku = item->Attribute("sku");
    if (sku == nullptr)
        return;
    totals[sku] += item->Int64Attribute("qty", 0) * item->Int64Attribute("per", 1);
}

// The old function, by its (overloadable) C++ name.
static void (*const old_tally_item)(std::map<std::string, long> &, const tinyxml2::XMLElement *) = tally_item;

extern "C" {
struct fix_entry fix_table = { (void *)tally_item_fixed, (void *)old_tally_item };
}
