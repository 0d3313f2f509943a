/* A sealed message queue on Monocypher: a key derived with BLAKE2b, then every round
   the next message is sealed with seal (XChaCha20-Poly1305), opened again with
   crypto_aead_unlock, and printed with its ciphertext and MAC prefixes; the queue
   remembers every MAC it sent and flags a repeat. On SIGUSR1 the seed's handler
   (corpus/common) loads ./patch.so and patches seal. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "upstream/monocypher.h"

#include "hotfix.h"
#include "seal.h"

#define MAX_ROUNDS 64

static const char *const messages[] = { "transfer 10 to bob", "transfer 25 to carol", "close account 7" };
static uint8_t sent_macs[MAX_ROUNDS][16];

static void hex4(char out[9], const uint8_t *bytes)
{
    snprintf(out, 9, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
}

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);
    static const char passphrase[] = "correct horse battery staple";
    uint8_t key[32];

    scenario_init_stdout();
    hotfix_install_handler();
    if (iterations > MAX_ROUNDS)
        iterations = MAX_ROUNDS;
    crypto_blake2b_keyed(key, sizeof key, (const uint8_t *)"queue key", 9, (const uint8_t *)passphrase,
                         sizeof passphrase - 1);
    char key_hex[9];
    hex4(key_hex, key);
    printf("key %s...\n", key_hex);
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        struct sealed box;
        char opened[65] = { 0 };
        seal(&box, key, (uint64_t)i, messages[i % 3]);
        int bad = crypto_aead_unlock((uint8_t *)opened, box.mac, key, box.nonce, NULL, 0, box.text, box.size);
        char ct[9], mac[9];
        hex4(ct, box.text);
        hex4(mac, box.mac);
        printf("round %d: ct %s mac %s -> %s", i, ct, mac, bad ? "REJECTED" : opened);
        memcpy(sent_macs[i], box.mac, 16);
        for (int j = 0; j < i; j++) {
            if (crypto_verify16(sent_macs[j], box.mac) == 0) {
                printf(" (nonce reused: same as round %d)", j);
                break;
            }
        }
        printf("\n");
        crypto_wipe(&box, sizeof box);
        usleep(10000);
    }
    crypto_wipe(key, sizeof key);
    return 0;
}
