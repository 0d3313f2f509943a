/* A bytecode interpreter with a computed-goto dispatch table (the shape of CPython's ceval,
   Lua's and Ruby's VMs): `ops` holds the handlers' addresses (&&label), built from
   R_X86_64_RELATIVE relocations in .data.rel.ro. gcc -O2 places the OP_STEP handler right
   after the table's lea, at interpret+0xb: inside the 12 bytes a hot patch overwrites.
   OP_POLL traps (int3) when asked, so a native run can patch while the interpreter runs. */
#include "app.h"

volatile int signal_self;

__attribute__((noinline)) long interpret(const unsigned char *pc, long acc)
{
    static const void *const ops[] = { &&op_halt, &&op_step, &&op_double, &&op_poll };
op_step:
    acc += 3;
    goto *ops[*pc++];
op_double:
    acc *= 2;
    goto *ops[*pc++];
op_poll:
    if (signal_self > 0) {
        __asm__ volatile("int3" ::: "memory");
        signal_self = 0;
    }
    goto *ops[*pc++];
op_halt:
    return acc;
}
