/*
 * Sealing to a reader's public key, and signatures: the primitives of
 * write-only keys (docs/WRITE-ONLY-KEYS.md).
 *
 * A writer's session picks an ephemeral X25519 pair, derives
 *   K = BLAKE2b-256(key = X25519(esk, rpk), "gfsb-session-v2" || epk || rpk)
 * and wipes esk and the shared secret at once: K seals the session's items
 * (gfsb_crypto_seal_with) and is wiped when the session is freed, after
 * which only the holder of rsk can derive it again from epk.  This is the
 * construction of libsodium's crypto_box_seal with one ephemeral key per
 * session rather than per message.  Binding epk and rpk into K follows
 * crypto_box_seal's nonce (and RFC 7748's advice to hash both public keys
 * with the shared secret).  A public key of low order gives an all-zero
 * shared secret, which libsodium's X25519 refuses: such a key is refused
 * here as well.
 *
 * Signatures are Ed25519 (libsodium crypto_sign_detached).
 */
#include <string.h>

#include <sodium.h>

#include <gfsbackup/crypto.h>

#define SESSION_CONTEXT "gfsb-session-v2"

_Static_assert(GFSB_PK_LEN == crypto_scalarmult_BYTES &&
    GFSB_SK_LEN == crypto_scalarmult_SCALARBYTES, "X25519 sizes");
_Static_assert(GFSB_SIGN_PK_LEN == crypto_sign_PUBLICKEYBYTES &&
    GFSB_SIGN_SK_LEN == crypto_sign_SECRETKEYBYTES &&
    GFSB_SIG_LEN == crypto_sign_BYTES, "Ed25519 sizes");

struct gfsb_session {
	uint8_t key[GFSB_KEY_LEN];
	uint8_t epk[GFSB_PK_LEN];
};

void
gfsb_crypto_reader_keypair(uint8_t pk[GFSB_PK_LEN], uint8_t sk[GFSB_SK_LEN])
{
	randombytes_buf(sk, GFSB_SK_LEN);
	/* Clamped by X25519 itself; never fails for a random scalar. */
	(void)crypto_scalarmult_base(pk, sk);
}

gfsb_err
gfsb_crypto_reader_public(const uint8_t sk[GFSB_SK_LEN],
    uint8_t pk[GFSB_PK_LEN])
{
	return crypto_scalarmult_base(pk, sk) == 0 ? GFSB_OK : GFSB_EINVAL;
}

/* K from the shared secret and both public keys. */
static void
session_kdf(const uint8_t shared[crypto_scalarmult_BYTES],
    const uint8_t epk[GFSB_PK_LEN], const uint8_t rpk[GFSB_PK_LEN],
    uint8_t key[GFSB_KEY_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, shared, crypto_scalarmult_BYTES,
	    GFSB_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)SESSION_CONTEXT,
	    sizeof(SESSION_CONTEXT) - 1);
	crypto_generichash_update(&st, epk, GFSB_PK_LEN);
	crypto_generichash_update(&st, rpk, GFSB_PK_LEN);
	crypto_generichash_final(&st, key, GFSB_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
}

gfsb_err
gfsb_crypto_session_new(const uint8_t rpk[GFSB_PK_LEN],
    struct gfsb_session **out)
{
	uint8_t esk[GFSB_SK_LEN], shared[crypto_scalarmult_BYTES];
	struct gfsb_session *s;
	int bad;

	if ((s = sodium_malloc(sizeof(*s))) == NULL)
		return GFSB_ENOMEM;
	gfsb_crypto_reader_keypair(s->epk, esk);
	bad = crypto_scalarmult(shared, esk, rpk) != 0;
	sodium_memzero(esk, sizeof(esk));
	if (bad) {
		sodium_free(s);
		return GFSB_EINVAL;
	}
	session_kdf(shared, s->epk, rpk, s->key);
	sodium_memzero(shared, sizeof(shared));
	sodium_mprotect_readonly(s);
	*out = s;
	return GFSB_OK;
}

void
gfsb_crypto_session_epk(const struct gfsb_session *s,
    uint8_t epk[GFSB_PK_LEN])
{
	memcpy(epk, s->epk, GFSB_PK_LEN);
}

void
gfsb_crypto_session_seal(const struct gfsb_session *s, uint8_t *out,
    const uint8_t *in, size_t n, const uint8_t *ad, size_t adlen)
{
	gfsb_crypto_seal_with(s->key, out, in, n, ad, adlen);
}

void
gfsb_crypto_session_free(struct gfsb_session *s)
{
	if (s != NULL)
		sodium_free(s); /* wipes the key */
}

gfsb_err
gfsb_crypto_session_key(const uint8_t rsk[GFSB_SK_LEN],
    const uint8_t epk[GFSB_PK_LEN], uint8_t key[GFSB_KEY_LEN])
{
	uint8_t shared[crypto_scalarmult_BYTES], rpk[GFSB_PK_LEN];

	if (crypto_scalarmult_base(rpk, rsk) != 0 ||
	    crypto_scalarmult(shared, rsk, epk) != 0) {
		sodium_memzero(shared, sizeof(shared));
		return GFSB_ECORRUPT;
	}
	session_kdf(shared, epk, rpk, key);
	sodium_memzero(shared, sizeof(shared));
	return GFSB_OK;
}

void
gfsb_crypto_sign_keypair(uint8_t pk[GFSB_SIGN_PK_LEN],
    uint8_t sk[GFSB_SIGN_SK_LEN])
{
	(void)crypto_sign_keypair(pk, sk);
}

void
gfsb_crypto_sign(const uint8_t sk[GFSB_SIGN_SK_LEN], const void *m,
    size_t n, uint8_t sig[GFSB_SIG_LEN])
{
	(void)crypto_sign_detached(sig, NULL, m, n, sk);
}

gfsb_err
gfsb_crypto_sign_verify(const uint8_t pk[GFSB_SIGN_PK_LEN], const void *m,
    size_t n, const uint8_t sig[GFSB_SIG_LEN])
{
	return crypto_sign_verify_detached(sig, m, n, pk) == 0 ? GFSB_OK :
	    GFSB_ECORRUPT;
}
