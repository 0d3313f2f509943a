/* The trivial hot fix every bench guest verifies: same output, another prefix. */
#include <stdio.h>

void report_round_fixed(int round, unsigned long value)
{
    printf("round %d (fixed): %08lx\n", round, value);
}
