// The fix: a hit counts for at most CRITICAL_CAP points. The old record_hit is an
// undefined reference here, bound at dlopen time to the executable's exported copy.
extern "C" {
#include "hotfix.h"
}
#include "session.h"

static const int CRITICAL_CAP = 50;

int record_hit_fixed(SessionTable &table, const std::string &player, int damage)
{
    std::vector<int> &hits = table.hits_by_player[player];
    hits.push_back(damage);
    int score = 0;
    for (int hit : hits)
        score += hit < CRITICAL_CAP ? hit : CRITICAL_CAP;
    return score;
}

struct fix_entry fix_table = { (void *)record_hit_fixed, (void *)record_hit };
