/*
 * Sealing: XChaCha20-Poly1305 with a random 24-byte nonce per item.
 *
 * Random nonces are safe at this size (2^96 items before a collision is
 * likely), so no counter state has to survive crashes or be shared between
 * hosts writing to the same repository.  The associated data binds each
 * item to what it claims to be (a blob's id and type, an object's header).
 */
#include <string.h>

#include <sodium.h>

#include <gfsbackup/crypto.h>

#include "crypto_internal.h"

void
gfsb_crypto_seal_with(const uint8_t key[GFSB_KEY_LEN], uint8_t *out,
    const uint8_t *in, size_t n, const uint8_t *ad, size_t adlen)
{
	randombytes_buf(out, GFSB_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + GFSB_NONCE_LEN, NULL,
	    in, n, ad, adlen, NULL, out, key);
}

gfsb_err
gfsb_crypto_open_with(const uint8_t key[GFSB_KEY_LEN], uint8_t *out,
    const uint8_t *in, size_t n, const uint8_t *ad, size_t adlen)
{
	if (n < GFSB_SEAL_OVERHEAD)
		return GFSB_ECORRUPT;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL,
	    in + GFSB_NONCE_LEN, n - GFSB_NONCE_LEN, ad, adlen, in,
	    key) != 0) {
		sodium_memzero(out, n - GFSB_SEAL_OVERHEAD);
		return GFSB_ECORRUPT;
	}
	return GFSB_OK;
}

void
gfsb_crypto_seal(const struct gfsb_keys *k, uint8_t *out, const uint8_t *in,
    size_t n, const uint8_t *ad, size_t adlen)
{
	gfsb_crypto_seal_with(k->enc, out, in, n, ad, adlen);
}

gfsb_err
gfsb_crypto_open(const struct gfsb_keys *k, uint8_t *out, const uint8_t *in,
    size_t n, const uint8_t *ad, size_t adlen)
{
	return gfsb_crypto_open_with(k->enc, out, in, n, ad, adlen);
}

void
gfsb_crypto_blob_id(const struct gfsb_keys *k, const void *p, size_t n,
    uint8_t id[GFSB_ID_LEN])
{
	crypto_generichash(id, GFSB_ID_LEN, p, n, k->idkey, GFSB_KEY_LEN);
}

void
gfsb_crypto_expand(const uint8_t seed[GFSB_KEY_LEN], void *out, size_t n)
{
	static const uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES] = {
		'g', 'f', 's', 'b', '-', 'g', 'e', 'a', 'r' };

	crypto_stream_xchacha20(out, n, nonce, seed);
}

void
gfsb_crypto_random(void *p, size_t n)
{
	randombytes_buf(p, n);
}
