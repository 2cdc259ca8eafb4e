/* Declarations shared inside the crypto module. */
#ifndef GFSB_CRYPTO_INTERNAL_H
#define GFSB_CRYPTO_INTERNAL_H

#include <gfsbackup/crypto.h>

/* The master keys, in sodium_malloc'd memory, read-only after creation. */
struct gfsb_keys {
	uint8_t enc[GFSB_KEY_LEN];   /* XChaCha20-Poly1305 key */
	uint8_t idkey[GFSB_KEY_LEN]; /* BLAKE2b key for blob ids */
};

#endif
