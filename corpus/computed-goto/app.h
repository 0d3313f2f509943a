#ifndef APP_H
#define APP_H
enum opcode { OP_HALT, OP_STEP, OP_DOUBLE, OP_POLL };
/* Set > 0 to make the next OP_POLL trap (int3) into main's SIGTRAP handler. */
extern volatile int signal_self;
long interpret(const unsigned char *pc, long acc);
#endif
