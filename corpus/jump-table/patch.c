/* The fix: unknown opcodes stop the program instead of negating. */
#include <stdio.h>

#include "hotfix.h"

int run_program(const unsigned char *code);

int fix_run_program(const unsigned char *code)
{
    int acc = 0;
    puts("after fix: run_program");
    for (;; code++) {
        switch (*code) {
        case 1: break;
        case 2: acc *= 3; break;
        case 3: acc -= 11; break;
        case 4: acc ^= 0x55; break;
        case 5: acc = acc << 2 | 1; break;
        case 6: acc = acc / 5; break;
        default: return acc;
        }
    }
}

struct fix_entry fix_table = { (void *)fix_run_program, (void *)run_program };
