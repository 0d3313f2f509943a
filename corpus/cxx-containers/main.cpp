// The running process: each tick every player in a fixed roster lands a hit
// (every fourth one critical) and the tick's scores are printed in roster order,
// never in the table's (hash) order. SIGUSR1 runs the seed's handler.
#include <csignal>
#include <cstdio>
#include <string>
#include <unistd.h>

extern "C" {
#include "hotfix.h"
}
#include "session.h"

// One name longer than std::string's 15-byte in-place buffer: its key is
// heap-allocated (std::string::_M_create).
static const char *const ROSTER[] = { "alice", "bob", "carol", "mallory-from-the-far-realm", "dave" };

static SessionTable sessions;

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    // Pre-sized for the server's player cap, so inserting a session never rehashes.
    sessions.hits_by_player.reserve(64);
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        std::string line = "tick " + std::to_string(i) + ":";
        int p = 0;
        for (const char *name : ROSTER) {
            std::string player(name);
            int damage = (p + i) % 4 == 3 ? 120 : 10 + p;
            line += " " + player + "=" + std::to_string(record_hit(sessions, player, damage));
            p++;
        }
        printf("%s (%zu players)\n", line.c_str(), sessions.hits_by_player.size());
        usleep(10000);
    }
    return 0;
}
