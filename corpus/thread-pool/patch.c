/* The fixes: score counts squares modulo 5, serve combines its jobs the other way round. */
#include "hotfix.h"

int wait_job(void);
int score(int x);

int fix_score(int x)
{
    int s = 0;
    for (int i = 0; i < x; i++)
        s += i * i % 5;
    return s;
}

int fix_serve(void)
{
    int first = wait_job();
    int second = wait_job();
    return second * 100 + first;
}

struct fix_entry fix_table = { (void *)fix_score, (void *)score };
