/* A bytecode interpreter loop: switch dispatch through a jump table. Opcode 1
   (nop) does nothing, so its table entry is the loop head itself, +6. */
__attribute__((noipa)) int run_program(const unsigned char *code)
{
    int acc = 0;
    for (;;) {
        switch (*code++) {
        case 0: return acc;
        case 1: break; /* nop */
        case 2: acc *= 3; break;
        case 3: acc -= 11; break;
        case 4: acc ^= 0x55; break;
        case 5: acc = acc << 2 | 1; break;
        case 6: acc = acc / 5; break;
        default: acc = -acc; break;
        }
    }
}
