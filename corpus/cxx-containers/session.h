// The server's session table: every player's hits, keyed by name.
#ifndef SESSION_H
#define SESSION_H
#include <string>
#include <unordered_map>
#include <vector>

struct SessionTable {
    std::unordered_map<std::string, std::vector<int>> hits_by_player;
};

// Records one hit for `player` (creating the session on first sight) and returns
// the player's score so far.
int record_hit(SessionTable &table, const std::string &player, int damage);

#endif
