/* crypto: hashes against published vectors, sealing detects any change,
 * sealing agrees with libsodium and the published XChaCha20-Poly1305
 * vector, keys stay apart, passphrase derivation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/util.h>

static void
test_sha256_vectors(void **state)
{
	uint8_t h[GFSB_ID_LEN];
	char hex[GFSB_ID_HEX];
	struct gfsb_sha256 *s;

	(void)state;
	gfsb_crypto_sha256("", 0, h);
	gfsb_hex_encode(h, sizeof(h), hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	gfsb_crypto_sha256("abc", 3, h);
	gfsb_hex_encode(h, sizeof(h), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	/* Streaming gives the same digest. */
	assert_int_equal(gfsb_crypto_sha256_new(&s), GFSB_OK);
	gfsb_crypto_sha256_feed(s, "a", 1);
	gfsb_crypto_sha256_feed(s, "bc", 2);
	gfsb_crypto_sha256_finish(s, h);
	gfsb_crypto_sha256_free(s);
	gfsb_hex_encode(h, sizeof(h), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

/* Every single-bit flip anywhere in a sealed item is detected. */
static void
test_seal_detects_every_bit_flip(void **state)
{
	struct gfsb_keys *k;
	uint8_t msg[100], sealed[100 + GFSB_SEAL_OVERHEAD], out[100];
	uint8_t ad[8] = "header!";
	size_t i, bit;

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	assert_int_equal(gfsb_crypto_keys_new(&k), GFSB_OK);
	gfsb_crypto_seal(k, sealed, msg, sizeof(msg), ad, sizeof(ad));
	assert_int_equal(gfsb_crypto_open(k, out, sealed, sizeof(sealed), ad,
	    sizeof(ad)), GFSB_OK);
	assert_memory_equal(out, msg, sizeof(msg));
	for (i = 0; i < sizeof(sealed); i++)
		for (bit = 0; bit < 8; bit++) {
			sealed[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(gfsb_crypto_open(k, out, sealed,
			    sizeof(sealed), ad, sizeof(ad)), GFSB_ECORRUPT);
			sealed[i] ^= (uint8_t)(1u << bit);
		}
	/* So is a change to the associated data, and truncation. */
	ad[0] ^= 1;
	assert_int_equal(gfsb_crypto_open(k, out, sealed, sizeof(sealed), ad,
	    sizeof(ad)), GFSB_ECORRUPT);
	ad[0] ^= 1;
	assert_int_equal(gfsb_crypto_open(k, out, sealed, sizeof(sealed) - 1,
	    ad, sizeof(ad)), GFSB_ECORRUPT);
	assert_int_equal(gfsb_crypto_open(k, out, sealed, 10, ad, sizeof(ad)),
	    GFSB_ECORRUPT);
	gfsb_crypto_keys_free(k);
}

static void
unhex(const char *h, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(sscanf(h + 2 * i, "%2hhx", &out[i]), 1);
}

/* draft-irtf-cfrg-xchacha-03, A.3.1: AEAD_XChaCha20_Poly1305. */
static void
test_seal_vector(void **state)
{
	static const char pt[] = "Ladies and Gentlemen of the class of '99: "
	    "If I could offer you only one tip for the future, sunscreen "
	    "would be it.";
	static const char ct[] =
	    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
	    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
	    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
	    "21f9664c97637da9768812f615c68b13b52e" "c0875924c1c7987947deafd878"
	    "0acf49";
	uint8_t key[GFSB_KEY_LEN], sealed[GFSB_NONCE_LEN + sizeof(ct) / 2];
	uint8_t ad[12], out[sizeof(pt)];
	size_t i, n = sizeof(pt) - 1;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i);
	for (i = 0; i < GFSB_NONCE_LEN; i++)
		sealed[i] = (uint8_t)(0x40 + i);
	unhex("50515253c0c1c2c3c4c5c6c7", ad, sizeof(ad));
	unhex(ct, sealed + GFSB_NONCE_LEN, sizeof(ct) / 2);
	assert_int_equal(n + GFSB_SEAL_OVERHEAD, sizeof(sealed));
	assert_int_equal(gfsb_crypto_open_with(key, out, sealed,
	    sizeof(sealed), ad, sizeof(ad)), GFSB_OK);
	assert_memory_equal(out, pt, n);
	sealed[sizeof(sealed) - 1] ^= 0x80;
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(gfsb_crypto_open_with(key, out, sealed,
	    sizeof(sealed), ad, sizeof(ad)), GFSB_ECORRUPT);
	for (i = 0; i < n; i++)	/* nothing unauthenticated is left */
		assert_int_equal(out[i], 0);
}

/* What we seal libsodium opens, and the other way round, at every size
 * around ChaCha20's 64-byte blocks and beyond libcrypto's chunking. */
static void
test_seal_matches_libsodium(void **state)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 63, 64, 65, 255,
	    256, 1000, 65543, 1 << 20 };
	size_t max = 1 << 20, i, a;
	uint8_t key[GFSB_KEY_LEN], ad[38];
	uint8_t *msg = malloc(max), *sealed = malloc(max + GFSB_SEAL_OVERHEAD);
	uint8_t *out = malloc(max);

	(void)state;
	assert_non_null(msg);
	assert_non_null(sealed);
	assert_non_null(out);
	randombytes_buf(key, sizeof(key));
	randombytes_buf(ad, sizeof(ad));
	randombytes_buf(msg, max);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (a = 0; a <= sizeof(ad); a += sizeof(ad)) {
			size_t n = sizes[i];

			gfsb_crypto_seal_with(key, sealed, msg, n, ad, a);
			assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
			    out, NULL, NULL, sealed + GFSB_NONCE_LEN,
			    n + GFSB_TAG_LEN, ad, a, sealed, key), 0);
			assert_memory_equal(out, msg, n);

			randombytes_buf(sealed, GFSB_NONCE_LEN);
			crypto_aead_xchacha20poly1305_ietf_encrypt(
			    sealed + GFSB_NONCE_LEN, NULL, msg, n, ad, a, NULL,
			    sealed, key);
			memset(out, 0, n);
			assert_int_equal(gfsb_crypto_open_with(key, out, sealed,
			    n + GFSB_SEAL_OVERHEAD, ad, a), GFSB_OK);
			assert_memory_equal(out, msg, n);
			/* A flipped ciphertext byte: refused, output wiped. */
			if (n > 0) {
				sealed[GFSB_NONCE_LEN + n / 2] ^= 1;
				assert_int_equal(gfsb_crypto_open_with(key,
				    out, sealed, n + GFSB_SEAL_OVERHEAD, ad, a),
				    GFSB_ECORRUPT);
				assert_int_equal(out[n / 2], 0);
				assert_int_equal(out[0], 0);
			}
		}
	free(msg);
	free(sealed);
	free(out);
}

static void
test_nonces_are_fresh(void **state)
{
	struct gfsb_keys *k;
	uint8_t a[16 + GFSB_SEAL_OVERHEAD], b[16 + GFSB_SEAL_OVERHEAD];
	uint8_t msg[16] = { 0 };

	(void)state;
	assert_int_equal(gfsb_crypto_keys_new(&k), GFSB_OK);
	gfsb_crypto_seal(k, a, msg, 16, NULL, 0);
	gfsb_crypto_seal(k, b, msg, 16, NULL, 0);
	assert_memory_not_equal(a, b, GFSB_NONCE_LEN);
	assert_memory_not_equal(a + GFSB_NONCE_LEN, b + GFSB_NONCE_LEN, 16);
	gfsb_crypto_keys_free(k);
}

static void
test_blob_ids_are_keyed(void **state)
{
	struct gfsb_keys *k1, *k2, *k3;
	uint8_t raw[GFSB_MASTER_LEN], a[GFSB_ID_LEN], b[GFSB_ID_LEN],
	    c[GFSB_ID_LEN];

	(void)state;
	assert_int_equal(gfsb_crypto_keys_new(&k1), GFSB_OK);
	assert_int_equal(gfsb_crypto_keys_new(&k2), GFSB_OK);
	gfsb_crypto_blob_id(k1, "data", 4, a);
	gfsb_crypto_blob_id(k2, "data", 4, b);
	assert_memory_not_equal(a, b, GFSB_ID_LEN);
	/* Export and import keep the keys. */
	gfsb_crypto_keys_export(k1, raw);
	assert_int_equal(gfsb_crypto_keys_import(raw, &k3), GFSB_OK);
	gfsb_crypto_blob_id(k3, "data", 4, c);
	assert_memory_equal(a, c, GFSB_ID_LEN);
	gfsb_crypto_keys_free(k1);
	gfsb_crypto_keys_free(k2);
	gfsb_crypto_keys_free(k3);
}

/* Ids are libsodium's keyed BLAKE2b-256 (crypto_generichash) at every
 * size around BLAKE2b's 128-byte blocks and beyond, whichever library
 * computes them: a different byte would split every repository's
 * deduplication in two. */
static void
test_blob_ids_match_libsodium(void **state)
{
	static const size_t sizes[] = { 0, 1, 63, 127, 128, 129, 255, 256,
	    1000, 65543, 1 << 20 };
	struct gfsb_keys *k;
	uint8_t raw[GFSB_MASTER_LEN], a[GFSB_ID_LEN], b[GFSB_ID_LEN];
	uint8_t *msg = malloc(1 << 20);
	size_t i;

	(void)state;
	assert_non_null(msg);
	randombytes_buf(msg, 1 << 20);
	assert_int_equal(gfsb_crypto_keys_new(&k), GFSB_OK);
	gfsb_crypto_keys_export(k, raw);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		gfsb_crypto_blob_id(k, msg, sizes[i], a);
		crypto_generichash(b, sizeof(b), msg, sizes[i],
		    raw + GFSB_KEY_LEN, GFSB_KEY_LEN);
		assert_memory_equal(a, b, GFSB_ID_LEN);
	}
	sodium_memzero(raw, sizeof(raw));
	gfsb_crypto_keys_free(k);
	free(msg);
}

/* A session's items open with the key the reader derives from its secret
 * key and the session's public key, and with nothing else. */
static void
test_session_round_trip(void **state)
{
	uint8_t rpk[GFSB_PK_LEN], rsk[GFSB_SK_LEN], epk[GFSB_PK_LEN];
	uint8_t key[GFSB_KEY_LEN], msg[100], out[100], ad[8] = "blob-ad";
	uint8_t sealed[100 + GFSB_SEAL_OVERHEAD];
	struct gfsb_session *s;

	(void)state;
	randombytes_buf(msg, sizeof(msg));
	gfsb_crypto_reader_keypair(rpk, rsk);
	assert_int_equal(gfsb_crypto_session_new(rpk, &s), GFSB_OK);
	gfsb_crypto_session_seal(s, sealed, msg, sizeof(msg), ad, sizeof(ad));
	gfsb_crypto_session_epk(s, epk);
	gfsb_crypto_session_free(s);

	assert_int_equal(gfsb_crypto_session_key(rsk, epk, key), GFSB_OK);
	assert_int_equal(gfsb_crypto_open_with(key, out, sealed,
	    sizeof(sealed), ad, sizeof(ad)), GFSB_OK);
	assert_memory_equal(out, msg, sizeof(msg));
	/* The associated data still binds. */
	ad[0] ^= 1;
	assert_int_equal(gfsb_crypto_open_with(key, out, sealed,
	    sizeof(sealed), ad, sizeof(ad)), GFSB_ECORRUPT);
	ad[0] ^= 1;
	/* A changed epk derives another key. */
	epk[5] ^= 1;
	assert_int_equal(gfsb_crypto_session_key(rsk, epk, key), GFSB_OK);
	assert_int_equal(gfsb_crypto_open_with(key, out, sealed,
	    sizeof(sealed), ad, sizeof(ad)), GFSB_ECORRUPT);
	gfsb_crypto_session_free(NULL);
}

/*
 * What a writer holds once its session is over (the reader's public key,
 * the session's public key, the sealed bytes, its own keys) opens nothing
 * of what it sealed; nor does another reader's secret key.  And every
 * session derives a key of its own.
 */
static void
test_session_writer_cannot_open(void **state)
{
	uint8_t rpk[GFSB_PK_LEN], rsk[GFSB_SK_LEN], epk[GFSB_PK_LEN];
	uint8_t epk2[GFSB_PK_LEN], opk[GFSB_PK_LEN], osk[GFSB_SK_LEN];
	uint8_t key[GFSB_KEY_LEN], idkey[GFSB_KEY_LEN], msg[64], out[64];
	uint8_t sealed[64 + GFSB_SEAL_OVERHEAD], sealed2[sizeof(sealed)];
	const uint8_t *tries[5];
	struct gfsb_session *s;
	size_t i;

	(void)state;
	memset(msg, 'x', sizeof(msg));
	randombytes_buf(idkey, sizeof(idkey));
	gfsb_crypto_reader_keypair(rpk, rsk);
	assert_int_equal(gfsb_crypto_session_new(rpk, &s), GFSB_OK);
	gfsb_crypto_session_seal(s, sealed, msg, sizeof(msg), NULL, 0);
	gfsb_crypto_session_epk(s, epk);
	gfsb_crypto_session_free(s);
	tries[0] = rpk;
	tries[1] = epk;
	tries[2] = idkey;
	tries[3] = sealed; /* the nonce and what follows */
	tries[4] = sealed + GFSB_NONCE_LEN;
	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		assert_int_equal(gfsb_crypto_open_with(tries[i], out, sealed,
		    sizeof(sealed), NULL, 0), GFSB_ECORRUPT);
	/* Another reader. */
	gfsb_crypto_reader_keypair(opk, osk);
	assert_int_equal(gfsb_crypto_session_key(osk, epk, key), GFSB_OK);
	assert_int_equal(gfsb_crypto_open_with(key, out, sealed,
	    sizeof(sealed), NULL, 0), GFSB_ECORRUPT);
	/* A second session of the same writer: another epk, another key. */
	assert_int_equal(gfsb_crypto_session_new(rpk, &s), GFSB_OK);
	gfsb_crypto_session_seal(s, sealed2, msg, sizeof(msg), NULL, 0);
	gfsb_crypto_session_epk(s, epk2);
	gfsb_crypto_session_free(s);
	assert_memory_not_equal(epk, epk2, GFSB_PK_LEN);
	assert_int_equal(gfsb_crypto_session_key(rsk, epk2, key), GFSB_OK);
	assert_int_equal(gfsb_crypto_open_with(key, out, sealed,
	    sizeof(sealed), NULL, 0), GFSB_ECORRUPT);
	assert_int_equal(gfsb_crypto_open_with(key, out, sealed2,
	    sizeof(sealed2), NULL, 0), GFSB_OK);
	assert_memory_equal(out, msg, sizeof(msg));
}

/*
 * The session key's derivation is part of the format: with rsk = 1..32
 * and the session's secret 33..64, K is BLAKE2b-256 keyed with the X25519
 * secret over "gfsb-session-v2" || epk || rpk, computed once by a separate
 * one-buffer program with libsodium (a change here is a format change).
 */
static void
test_session_key_pinned(void **state)
{
	static const char epk_hex[] = "5869aff450549732cbaaed5e5df9b30a"
	    "6da31cb0e5742bad5ad4a1a768f1a67b";
	static const char k_hex[] = "c55c8dbbae836d678be1f9c8925b3c97"
	    "e9e91cc6f71431c86f9b9224bbcefb16";
	uint8_t rsk[GFSB_SK_LEN], epk[GFSB_PK_LEN], k[GFSB_KEY_LEN];
	uint8_t want[GFSB_KEY_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rsk); i++)
		rsk[i] = (uint8_t)(i + 1);
	assert_int_equal(sodium_hex2bin(epk, sizeof(epk), epk_hex,
	    sizeof(epk_hex) - 1, NULL, NULL, NULL), 0);
	assert_int_equal(sodium_hex2bin(want, sizeof(want), k_hex,
	    sizeof(k_hex) - 1, NULL, NULL, NULL), 0);
	assert_int_equal(gfsb_crypto_session_key(rsk, epk, k), GFSB_OK);
	assert_memory_equal(k, want, sizeof(k));
}

/* Points of low order give a zero shared secret: refused on both sides. */
static void
test_session_low_order_points(void **state)
{
	static const uint8_t zero[GFSB_PK_LEN], one[GFSB_PK_LEN] = { 1 };
	uint8_t rpk[GFSB_PK_LEN], rsk[GFSB_SK_LEN], key[GFSB_KEY_LEN];
	struct gfsb_session *s = NULL;

	(void)state;
	assert_int_equal(gfsb_crypto_session_new(zero, &s), GFSB_EINVAL);
	assert_null(s);
	assert_int_equal(gfsb_crypto_session_new(one, &s), GFSB_EINVAL);
	gfsb_crypto_reader_keypair(rpk, rsk);
	assert_int_equal(gfsb_crypto_session_key(rsk, zero, key),
	    GFSB_ECORRUPT);
	assert_int_equal(gfsb_crypto_session_key(rsk, one, key),
	    GFSB_ECORRUPT);
	/* The public key of a secret key is the one the pair came with. */
	assert_int_equal(gfsb_crypto_reader_public(rsk, key), GFSB_OK);
	assert_memory_equal(key, rpk, GFSB_PK_LEN);
}

static void
test_signatures(void **state)
{
	uint8_t pk[GFSB_SIGN_PK_LEN], sk[GFSB_SIGN_SK_LEN];
	uint8_t pk2[GFSB_SIGN_PK_LEN], sk2[GFSB_SIGN_SK_LEN];
	uint8_t sig[GFSB_SIG_LEN], m[300];

	(void)state;
	randombytes_buf(m, sizeof(m));
	gfsb_crypto_sign_keypair(pk, sk);
	gfsb_crypto_sign_keypair(pk2, sk2);
	gfsb_crypto_sign(sk, m, sizeof(m), sig);
	assert_int_equal(gfsb_crypto_sign_verify(pk, m, sizeof(m), sig),
	    GFSB_OK);
	assert_int_equal(gfsb_crypto_sign_verify(pk2, m, sizeof(m), sig),
	    GFSB_ECORRUPT);
	assert_int_equal(gfsb_crypto_sign_verify(pk, m, sizeof(m) - 1, sig),
	    GFSB_ECORRUPT);
	m[299] ^= 0x80;
	assert_int_equal(gfsb_crypto_sign_verify(pk, m, sizeof(m), sig),
	    GFSB_ECORRUPT);
	m[299] ^= 0x80;
	sig[0] ^= 1;
	assert_int_equal(gfsb_crypto_sign_verify(pk, m, sizeof(m), sig),
	    GFSB_ECORRUPT);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(sk2, sizeof(sk2));
}

static void
test_pwhash(void **state)
{
	uint8_t salt[GFSB_SALT_LEN] = { 1 }, a[GFSB_KEY_LEN], b[GFSB_KEY_LEN];

	(void)state;
	assert_int_equal(gfsb_crypto_pwhash(a, "pass", 4, salt, 1, 1 << 16),
	    GFSB_OK);
	assert_int_equal(gfsb_crypto_pwhash(b, "pass", 4, salt, 1, 1 << 16),
	    GFSB_OK);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(gfsb_crypto_pwhash(b, "pasS", 4, salt, 1, 1 << 16),
	    GFSB_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	salt[0] = 2;
	assert_int_equal(gfsb_crypto_pwhash(b, "pass", 4, salt, 1, 1 << 16),
	    GFSB_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	/* Out-of-range parameters are refused, not clamped. */
	assert_int_equal(gfsb_crypto_pwhash(b, "pass", 4, salt, 0, 1 << 16),
	    GFSB_EINVAL);
	assert_int_equal(gfsb_crypto_pwhash(b, "pass", 4, salt, 1, 10),
	    GFSB_EINVAL);
}

static void
test_expand_is_deterministic(void **state)
{
	uint8_t seed[GFSB_KEY_LEN] = { 9 }, a[64], b[64];

	(void)state;
	gfsb_crypto_expand(seed, a, sizeof(a));
	gfsb_crypto_expand(seed, b, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	seed[0] = 8;
	gfsb_crypto_expand(seed, b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
}

int
main(void)
{
	struct gfsb_ctx *ctx;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_seal_detects_every_bit_flip),
		cmocka_unit_test(test_seal_vector),
		cmocka_unit_test(test_seal_matches_libsodium),
		cmocka_unit_test(test_blob_ids_match_libsodium),
		cmocka_unit_test(test_session_round_trip),
		cmocka_unit_test(test_session_writer_cannot_open),
		cmocka_unit_test(test_session_key_pinned),
		cmocka_unit_test(test_session_low_order_points),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_nonces_are_fresh),
		cmocka_unit_test(test_blob_ids_are_keyed),
		cmocka_unit_test(test_pwhash),
		cmocka_unit_test(test_expand_is_deterministic),
	};

	if (gfsb_ctx_new(&ctx) != GFSB_OK)
		return 1;
	gfsb_ctx_free(ctx);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
