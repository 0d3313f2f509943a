/* A worker-pool server: three pthread workers (named pool-0..2) do their work between
   sleeps; the main thread sleeps and, at iteration argv[2], raises SIGUSR1 whose handler
   patches through patch.so's fix_table. Parked variant: workers call score() then sleep
   (every worker is parked in a sleep outside the target). Blocking variant: workers
   call serve(), which blocks in wait_job() called from its first bytes. Busy variant
   (-DPOOL_BUSY, with the byte-loop patcher): workers call score() without a pause. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "hotfix.h"

int score(int x);
int serve(void);

static volatile long done[3];

static void *worker(void *arg)
{
    long id = (long)arg;
    char name[16] = "pool-0";
    name[5] = (char)('0' + id);
    prctl(PR_SET_NAME, name);
    for (;;) {
#ifdef POOL_BLOCKING
        serve();
#elif defined(POOL_BUSY)
        score(200 + (int)id); /* a busy loop: always running, often inside score */
#else
        score(200 + (int)id);
        usleep(20000);
#endif
        done[id]++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);
    pthread_t t[3];

    scenario_init_stdout();
    hotfix_install_handler();
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        usleep(50000);
        printf("iteration %d score %d\n", i, score(100));
    }
    return 0;
}
