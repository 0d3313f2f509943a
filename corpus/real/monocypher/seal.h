/* The message queue's sealing function: the hot-fix target. */
#ifndef SEAL_H
#define SEAL_H

#include <stddef.h>
#include <stdint.h>

struct sealed {
    uint8_t nonce[24];
    uint8_t mac[16];
    uint8_t text[64];
    size_t size;
};

/* Encrypt and authenticate message number seq (XChaCha20-Poly1305) under key. */
void seal(struct sealed *out, const uint8_t key[32], uint64_t seq, const char *message);

#endif
