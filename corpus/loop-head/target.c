/* A leaf list walk whose do-while loop head is only a few bytes in:
   endbr64; xor eax,eax; .Lhead: add eax,[rdi+8]; ... jne .Lhead */
struct order {
    struct order *next;
    int amount;
};

__attribute__((noipa)) int total_amount(const struct order *order)
{
    int total = 0;
    do {
        total += order->amount;
        order = order->next;
    } while (order != 0);
    return total;
}
