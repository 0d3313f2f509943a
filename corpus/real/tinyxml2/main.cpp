// A warehouse service on TinyXML2: every round it parses the next delivery note
// (XML), tallies its items into an std::map<std::string, long> with tally_item and
// prints the running stock with std::cout. On SIGUSR1 the seed's handler
// (corpus/common) loads ./patch.so and patches tally_item.
#include <csignal>
#include <iostream>
#include <map>
#include <string>
#include <unistd.h>

extern "C" {
#include "hotfix.h"
}
#include "stock.h"

static const char *const deliveries[] = {
    "<delivery from='acme'><item sku='bolt' qty='2' per='50'/><item sku='nut' qty='120'/></delivery>",
    "<delivery from='globex'><item sku='washer' qty='3' per='100'/><item sku='bolt' qty='7'/></delivery>",
    "<delivery from='initech'><!-- partial --><item sku='nut' qty='1' per='500'/><item sku='hinge' qty='4'/></delivery>",
};

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    std::cout << "TinyXML2 " << TIXML2_MAJOR_VERSION << '.' << TIXML2_MINOR_VERSION << '.' << TIXML2_PATCH_VERSION << std::endl;
    std::map<std::string, long> stock;
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            std::raise(SIGUSR1);
        tinyxml2::XMLDocument note;
        if (note.Parse(deliveries[i % 3]) != tinyxml2::XML_SUCCESS) {
            std::cout << "round " << i << ": " << note.ErrorStr() << std::endl;
        } else {
            const tinyxml2::XMLElement *root = note.RootElement();
            for (const tinyxml2::XMLElement *item = root->FirstChildElement("item"); item != nullptr;
                 item = item->NextSiblingElement("item"))
                tally_item(stock, item);
            std::cout << "round " << i << " from " << root->Attribute("from") << ":";
            for (const auto &[sku, count] : stock)
                std::cout << ' ' << sku << '=' << count;
            std::cout << std::endl;
        }
        usleep(10000);
    }
    return 0;
}
