/* The hot fix: the same bytecode, OP_DOUBLE saturating at 1000. A function of its own with
   its own table, reached through the trampoline the handler writes over interpret. */
#include <stdio.h>

#include "app.h"
#include "hotfix.h"

long fix_interpret(const unsigned char *pc, long acc)
{
    acc += 3; /* interpret enters at OP_STEP's handler */
    for (;;) {
        switch (*pc++) {
        case OP_STEP: acc += 3; break;
        case OP_DOUBLE: acc = acc > 500 ? 1000 : acc * 2; break;
        case OP_POLL: break;
        default: return acc;
        }
    }
}

struct fix_entry fix_table = { (void *)fix_interpret, (void *)interpret };
