/* A benchmark kernel in the manner of CoreMark: matrix multiply, a linked-list sort, a
   small state machine and a CRC over the results, several rounds. */
#include <stdlib.h>
#include <unistd.h>

#include "common.h"

#define N 40
#define LIST 600

struct node { struct node *next; int key; };

static unsigned crc16(unsigned crc, unsigned v)
{
    for (int k = 0; k < 16; k++) {
        unsigned bit = (crc ^ v) & 1;
        crc >>= 1;
        v >>= 1;
        if (bit)
            crc ^= 0xa001;
    }
    return crc;
}

static unsigned matrix(int *a, int *b, int *c, unsigned seed)
{
    for (int i = 0; i < N * N; i++) {
        seed = seed * 1664525u + 1013904223u;
        a[i] = (int)(seed >> 24) - 128;
        b[i] = (int)((seed >> 8) & 0xff) - 128;
    }
    unsigned crc = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int s = 0;
            for (int k = 0; k < N; k++)
                s += a[i * N + k] * b[k * N + j];
            c[i * N + j] = s;
            crc = crc16(crc, (unsigned)s);
        }
    return crc;
}

static struct node *merge_sort(struct node *list)
{
    if (!list || !list->next)
        return list;
    struct node *slow = list, *fast = list->next;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
    }
    struct node *second = slow->next;
    slow->next = NULL;
    struct node *a = merge_sort(list), *b = merge_sort(second), head, *t = &head;
    while (a && b) {
        if (a->key <= b->key) { t->next = a; a = a->next; }
        else { t->next = b; b = b->next; }
        t = t->next;
    }
    t->next = a ? a : b;
    return head.next;
}

static unsigned list_work(struct node *nodes, unsigned seed)
{
    for (int i = 0; i < LIST; i++) {
        seed = seed * 69069u + 1;
        nodes[i].key = (int)(seed >> 12) & 0xffff;
        nodes[i].next = i + 1 < LIST ? &nodes[i + 1] : NULL;
    }
    unsigned crc = 0;
    for (struct node *p = merge_sort(nodes); p; p = p->next)
        crc = crc16(crc, (unsigned)p->key);
    return crc;
}

static unsigned state_machine(unsigned seed)
{
    enum { START, INT, FRAC, EXP, BAD } state = START;
    unsigned counts[5] = { 0 };
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        char c = "0123456789.e-+x,"[(seed >> 16) & 15];
        switch (state) {
        case START: state = c >= '0' && c <= '9' ? INT : c == ',' ? START : BAD; break;
        case INT: state = c == '.' ? FRAC : c == 'e' ? EXP : c == ',' ? START : c >= '0' && c <= '9' ? INT : BAD; break;
        case FRAC: state = c == 'e' ? EXP : c == ',' ? START : c >= '0' && c <= '9' ? FRAC : BAD; break;
        case EXP: state = c == ',' ? START : (c >= '0' && c <= '9') || c == '-' || c == '+' ? EXP : BAD; break;
        case BAD: state = c == ',' ? START : BAD; break;
        }
        counts[state]++;
    }
    return counts[0] ^ counts[1] << 4 ^ counts[2] << 8 ^ counts[3] << 12 ^ counts[4] << 16;
}

int main(void)
{
    int *a = malloc(sizeof(int) * N * N), *b = malloc(sizeof(int) * N * N), *c = malloc(sizeof(int) * N * N);
    struct node *nodes = malloc(sizeof(struct node) * LIST);
    for (int round = 0; round < 20; round++) {
        unsigned crc = matrix(a, b, c, (unsigned)round);
        crc = crc16(crc, list_work(nodes, (unsigned)round * 7));
        crc = crc16(crc, state_machine((unsigned)round * 13));
        report_round(round, crc);
        usleep(1000);
    }
    return 0;
}
