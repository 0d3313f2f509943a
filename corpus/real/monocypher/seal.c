/* seal with the bug: every message gets the same nonce (the sequence number is
   never written into it), so equal messages give equal ciphertexts and the key
   stream repeats: the classic nonce reuse. */
#include <string.h>

#include "upstream/monocypher.h"

#include "seal.h"

__attribute__((noipa)) void seal(struct sealed *out, const uint8_t key[32], uint64_t seq, const char *message)
{
    (void)seq;
    memset(out->nonce, 0, sizeof out->nonce);
    memcpy(out->nonce + 16, "queue-v1", 8);
    out->size = strlen(message);
    if (out->size > sizeof out->text)
        out->size = sizeof out->text;
    crypto_aead_lock(out->text, out->mac, key, out->nonce, NULL, 0, (const uint8_t *)message, out->size);
}
