/* Shared by the bench guests: the target every bench patches (a progress report called once
   per round, then the guest sleeps, as a server between requests) and the round count. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
void report_round(int round, unsigned long value);
#endif
