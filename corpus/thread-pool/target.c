/* The pool's work. score() has no call in its first 12 bytes: patching it is safe
   when no worker is inside it. serve() calls wait_job() before anything else, so the
   call's return address lies inside the 12 bytes a trampoline replaces; with
   -DPOOL_BLOCKING the workers block in wait_job (a usleep) called from there. */
#include <unistd.h>

static volatile int jobs;

__attribute__((noipa)) int wait_job(void)
{
    usleep(20000);
    return ++jobs;
}

__attribute__((noipa)) int serve(void)
{
    int first = wait_job();
    int second = wait_job();
    return first * 100 + second;
}

__attribute__((noipa)) int score(int x)
{
    int s = 0;
    for (int i = 0; i < x; i++)
        s += i * i % 7;
    return s;
}
