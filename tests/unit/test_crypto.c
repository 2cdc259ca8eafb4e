/* crypto: hashes against published vectors, sealing detects any change,
 * keys stay apart, passphrase derivation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

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
