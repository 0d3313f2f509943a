/* The game-logic library's interface (libgame.so, next to main, found through
   RUNPATH $ORIGIN). main reaches compute_damage only through its PLT/GOT. */
#ifndef GOT_SLOT_GAME_H
#define GOT_SLOT_GAME_H

/* The function the hot fix replaces (version 1 says "v1"). */
int compute_damage(int level);

/* A library function that calls compute_damage itself, through a hidden alias:
   a direct call inside the library, never through any GOT slot. */
int game_tick(int round);

#endif
