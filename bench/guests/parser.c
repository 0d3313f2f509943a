/* A parser: generates arithmetic expressions with nesting, then tokenises and evaluates them
   with a recursive-descent parser, several rounds. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define TEXT 24000

struct lexer { const char *p; int tok; long value; };

static void next(struct lexer *l)
{
    while (*l->p == ' ')
        l->p++;
    char c = *l->p;
    if (c >= '0' && c <= '9') {
        long v = 0;
        while (*l->p >= '0' && *l->p <= '9')
            v = v * 10 + (*l->p++ - '0');
        l->tok = 'n';
        l->value = v;
    } else if (c == 0) {
        l->tok = 0;
    } else {
        l->tok = c;
        l->p++;
    }
}

static long expr(struct lexer *l);

static long primary(struct lexer *l)
{
    if (l->tok == 'n') {
        long v = l->value;
        next(l);
        return v;
    }
    if (l->tok == '(') {
        next(l);
        long v = expr(l);
        if (l->tok == ')')
            next(l);
        return v;
    }
    if (l->tok == '-') {
        next(l);
        return -primary(l);
    }
    next(l);
    return 0;
}

static long term(struct lexer *l)
{
    long v = primary(l);
    while (l->tok == '*' || l->tok == '/' || l->tok == '%') {
        int op = l->tok;
        next(l);
        long r = primary(l);
        if (op == '*') v *= r;
        else if (r != 0) v = op == '/' ? v / r : v % r;
    }
    return v;
}

static long expr(struct lexer *l)
{
    long v = term(l);
    while (l->tok == '+' || l->tok == '-') {
        int op = l->tok;
        next(l);
        long r = term(l);
        v = op == '+' ? v + r : v - r;
    }
    return v;
}

static unsigned seed;

static size_t gen(char *out, size_t at, size_t max, int depth)
{
    seed = seed * 1103515245u + 12345u;
    if (depth > 4 || (seed >> 16) % 3 == 0 || at + 40 > max) {
        unsigned v = (seed >> 8) % 1000;
        char digits[8];
        int n = 0;
        do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
        while (n)
            out[at++] = digits[--n];
        return at;
    }
    out[at++] = '(';
    at = gen(out, at, max, depth + 1);
    out[at++] = ' ';
    out[at++] = "+-*/%"[(seed >> 20) % 5];
    out[at++] = ' ';
    at = gen(out, at, max, depth + 1);
    out[at++] = ')';
    return at;
}

int main(void)
{
    char *text = malloc(TEXT + 64);
    for (int round = 0; round < 8; round++) {
        seed = (unsigned)round * 977u + 1;
        unsigned long sum = 0;
        for (int pass = 0; pass < 3; pass++) {
            size_t at = 0;
            while (at + 200 < TEXT) {
                at = gen(text, at, TEXT, 0);
                text[at++] = ' ';
                text[at++] = '+';
                text[at++] = ' ';
            }
            text[at++] = '0';
            text[at] = 0;
            struct lexer l = { text, 0, 0 };
            next(&l);
            sum = sum * 31 + (unsigned long)expr(&l) + strlen(text);
        }
        report_round(round, sum);
        usleep(1000);
    }
    return 0;
}
