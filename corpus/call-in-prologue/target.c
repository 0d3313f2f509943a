/* handle_events() calls wait_event() before anything else, so the call ends
   at +10 and its return address lies inside the 12 bytes a trampoline replaces.
   With -DWAIT_BLOCKS wait_event() is where the process sleeps (a SIGUSR1 from
   outside finds it there); without, it returns at once and main sleeps. */
#include <signal.h>
#include <unistd.h>

int raise_at_event = -1;
static int events;

__attribute__((noipa)) int wait_event(void)
{
    ++events;
#ifdef WAIT_BLOCKS
    /* Stands for a kill -USR1 arriving while blocked here. */
    if (events == raise_at_event)
        raise(SIGUSR1);
    usleep(10000);
#endif
    return events;
}

__attribute__((noipa)) int handle_events(void)
{
    int first = wait_event();
    int second = wait_event();
    return first * 100 + second;
}
