/* Version 1 of the game logic, built into libgame.so. */
#include <stdio.h>

#include "game.h"

__attribute__((noinline)) int compute_damage(int level)
{
    printf("compute_damage v1 level %d\n", level);
    return level * 3;
}

/* As glibc's hidden_def does: an internal name the library binds to itself. */
extern int compute_damage_internal(int level) __attribute__((visibility("hidden"), alias("compute_damage")));

int game_tick(int round)
{
    return compute_damage_internal(round) + 100;
}
