/* A compression loop: LZ77 with a hash table of last positions over a generated text,
   then decompression and a CRC-32 check, several rounds. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define SIZE 16384
#define HASH_BITS 12

static unsigned crc_table[256];

static void crc_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        unsigned c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static unsigned crc32(const unsigned char *p, size_t n)
{
    unsigned c = 0xffffffffu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static void generate(unsigned char *text, size_t n, unsigned seed)
{
    static const char *words[] = { "patch ", "server ", "the ", "function ", "return ", "jump ", "bytes ", "stack ", "\n" };
    size_t at = 0;
    while (at < n) {
        seed = seed * 1103515245u + 12345u;
        const char *w = words[(seed >> 16) % 9];
        while (*w && at < n)
            text[at++] = (unsigned char)*w++;
    }
}

/* Output: literal runs "0 len byte..." and matches "1 dist(2) len". */
static size_t compress(const unsigned char *in, size_t n, unsigned char *out, int *head)
{
    size_t o = 0, i = 0;
    for (int k = 0; k < 1 << HASH_BITS; k++)
        head[k] = -1;
    while (i < n) {
        int best = 0, dist = 0;
        if (i + 3 <= n) {
            unsigned h = ((in[i] << 8) ^ (in[i + 1] << 4) ^ in[i + 2]) & ((1 << HASH_BITS) - 1);
            int cand = head[h];
            head[h] = (int)i;
            if (cand >= 0 && i - (size_t)cand < 65535) {
                int len = 0;
                while (i + len < n && len < 255 && in[cand + len] == in[i + len])
                    len++;
                if (len >= 3) {
                    best = len;
                    dist = (int)(i - (size_t)cand);
                }
            }
        }
        if (best) {
            out[o++] = 1;
            out[o++] = (unsigned char)dist;
            out[o++] = (unsigned char)(dist >> 8);
            out[o++] = (unsigned char)best;
            i += best;
        } else {
            out[o++] = 0;
            out[o++] = in[i++];
        }
    }
    return o;
}

static size_t decompress(const unsigned char *in, size_t n, unsigned char *out)
{
    size_t o = 0, i = 0;
    while (i < n) {
        if (in[i] == 0) {
            out[o++] = in[i + 1];
            i += 2;
        } else {
            int dist = in[i + 1] | in[i + 2] << 8, len = in[i + 3];
            for (int k = 0; k < len; k++, o++)
                out[o] = out[o - dist];
            i += 4;
        }
    }
    return o;
}

int main(void)
{
    unsigned char *text = malloc(SIZE), *packed = malloc(SIZE * 2), *back = malloc(SIZE);
    int *head = malloc(sizeof(int) << HASH_BITS);
    crc_init();
    for (int round = 0; round < 32; round++) {
        generate(text, SIZE, (unsigned)round);
        size_t n = compress(text, SIZE, packed, head);
        size_t m = decompress(packed, n, back);
        unsigned c = crc32(back, m);
        if (m != SIZE || memcmp(text, back, SIZE) != 0)
            return 1;
        report_round(round, (unsigned long)c << 20 ^ n);
        usleep(1000);
    }
    return 0;
}
