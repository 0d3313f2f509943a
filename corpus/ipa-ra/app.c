/* A small state machine in the style of CoreMark's core_state_transition: next_state is
   tiny and in the same unit as its caller, so gcc -O2 (-fipa-ra) knows which caller-saved
   registers it never touches and run_machine keeps its pointers and counters in them
   (r8, r10, r11, rcx, r9) across the call instead of saving them in callee-saved ones. */
#include "app.h"

static const int table[16] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3 };

__attribute__((noinline)) int next_state(int state, int input)
{
    return table[(state * 5 + input) & 15];
}

__attribute__((noinline)) void run_machine(struct machine *m, const int *inputs, int n)
{
    for (int i = 0; i < n; i++) {
        m->state = next_state(m->state, inputs[i]);
        m->history[i & 7] = m->state;
        m->steps++;
    }
}
