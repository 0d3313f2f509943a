/* The game server: calls compute_damage (libgame.so, through the PLT) and
   sleeps, N times. -DCALL_GAME_TICK also calls game_tick, which reaches
   compute_damage by a direct call inside the library; -DCALLBACK_TABLE also
   calls it through a handler table filled at start-up, before any patch. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "game.h"
#include "got-patch.h"
#include "hotfix.h"

#ifdef CALLBACK_TABLE
static int (*handlers[1])(int);
#endif

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    got_patch_install_handler();
#ifdef CALLBACK_TABLE
    handlers[0] = compute_damage;
#endif
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        printf("round %d damage %d\n", i, compute_damage(i));
#ifdef CALL_GAME_TICK
        printf("round %d tick %d\n", i, game_tick(i));
#endif
#ifdef CALLBACK_TABLE
        printf("round %d handler %d\n", i, handlers[0](i));
#endif
        usleep(10000);
    }
    return 0;
}
