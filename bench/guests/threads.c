/* The scheduler bench's guest: three pthread workers each run the same CPU-bound loop (no
   lock, no system call inside it), then main joins them and prints the sum. With argument
   "serial" main runs the three loops itself, one after the other, in a single thread. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define ROUNDS 1000000

static void *work(void *arg) {
    unsigned long seed = (unsigned long)arg, sum = 0;
    for (int i = 0; i < ROUNDS; i++) {
        seed = seed * 6364136223846793005ul + 1442695040888963407ul;
        sum += (seed >> 33) ^ (unsigned long)i;
    }
    return (void *)sum;
}

int main(int argc, char **argv) {
    unsigned long total = 0;
    if (argc > 1 && strcmp(argv[1], "serial") == 0) {
        for (long t = 0; t < 3; t++) total += (unsigned long)work((void *)(t + 1));
    } else {
        pthread_t th[3];
        for (long t = 0; t < 3; t++) pthread_create(&th[t], NULL, work, (void *)(t + 1));
        for (int t = 0; t < 3; t++) {
            void *r;
            pthread_join(th[t], &r);
            total += (unsigned long)r;
        }
    }
    printf("total %lu\n", total);
    return 0;
}
