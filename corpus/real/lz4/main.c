/* An archiver on LZ4, linked against liblz4.so.1 built from upstream next to main
   (found through RUNPATH $ORIGIN): every round it fills a 4 KiB block (log text on
   even rounds, pseudo-random bytes on odd ones), compresses it with pack_block,
   decompresses it with LZ4_decompress_safe and checks the round trip. On SIGUSR1
   the seed's handler (corpus/common) loads ./patch.so and patches pack_block. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "upstream/lz4.h"

#include "codec.h"
#include "hotfix.h"

#define BLOCK 4096

static char block[BLOCK], packed[LZ4_COMPRESSBOUND(BLOCK)], unpacked[BLOCK];

static void fill(int round)
{
    if (round % 2 == 0) {
        char line[64];
        for (int at = 0, n = 0; at < BLOCK; at += n) {
            n = snprintf(line, sizeof line, "GET /item/%d HTTP/1.1 200 %d\n", (at / 7 + round) % 40, 100 + at % 9);
            if (n > BLOCK - at)
                n = BLOCK - at;
            memcpy(block + at, line, (size_t)n);
        }
    } else {
        unsigned int x = 2463534242u + (unsigned int)round;
        for (int i = 0; i < BLOCK; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            block[i] = (char)(x >> 24);
        }
    }
}

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);

    scenario_init_stdout();
    hotfix_install_handler();
    printf("liblz4 %s (built against %s)\n", LZ4_versionString(), LZ4_VERSION_STRING);
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        fill(i);
        int packed_len = pack_block(block, BLOCK, packed, (int)sizeof packed);
        if (packed_len <= 0) {
            printf("round %d: %d bytes: compression failed\n", i, BLOCK);
        } else {
            int back = LZ4_decompress_safe(packed, unpacked, packed_len, BLOCK);
            printf("round %d: %d -> %d bytes, round trip %s\n", i, BLOCK, packed_len,
                   back == BLOCK && memcmp(block, unpacked, BLOCK) == 0 ? "ok" : "MISMATCH");
        }
        usleep(10000);
    }
    return 0;
}
