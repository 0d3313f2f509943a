// The scoring function, with the bug the patch fixes: a critical hit counts in
// full, so one lucky hit decides the match. Everything std:: here is inlined
// template code; what it imports from libstdc++ (_Hash_bytes, the rehash policy,
// string/vector growth helpers) is what the sandbox's stubs must get right.
#include "session.h"

__attribute__((noipa)) int record_hit(SessionTable &table, const std::string &player, int damage)
{
    std::vector<int> &hits = table.hits_by_player[player];
    hits.push_back(damage);
    int score = 0;
    for (int hit : hits)
        score += hit;
    return score;
}
