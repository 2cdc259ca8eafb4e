/* compress: round trips, raw storage of incompressible data, and
 * decompression bounded by the expected size (no bombs). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <zstd.h>

#include <gfsbackup/compress.h>
#include <gfsbackup/crypto.h>

static void
test_round_trip(void **state)
{
	struct gfsb_compress *z;
	size_t n = 1 << 20, clen, i;
	uint8_t *in = malloc(n), *c = malloc(gfsb_compress_bound(n)),
	    *out = malloc(n);

	(void)state;
	for (i = 0; i < n; i++)
		in[i] = "log line 2026-11-22 host=web1 status=200\n"[i % 41];
	assert_int_equal(gfsb_compress_new(3, &z), GFSB_OK);
	assert_int_equal(gfsb_compress_blob(z, in, n, c,
	    gfsb_compress_bound(n), &clen), GFSB_OK);
	assert_true(clen > 0 && clen < n / 10);
	assert_int_equal(gfsb_compress_unblob(z, c, clen, out, n), GFSB_OK);
	assert_memory_equal(in, out, n);
	/* The wrong expected size is an error either way. */
	assert_int_equal(gfsb_compress_unblob(z, c, clen, out, n - 1),
	    GFSB_ECORRUPT);
	assert_int_equal(gfsb_compress_unblob(z, c, clen - 1, out, n),
	    GFSB_ECORRUPT);
	gfsb_compress_free(z);
	free(in);
	free(c);
	free(out);
}

static void
test_incompressible_stored_raw(void **state)
{
	struct gfsb_compress *z, *off;
	size_t n = 256 << 10, clen = 99;
	uint8_t *in = malloc(n), *c = malloc(gfsb_compress_bound(n));

	(void)state;
	gfsb_crypto_random(in, n);
	assert_int_equal(gfsb_compress_new(3, &z), GFSB_OK);
	assert_int_equal(gfsb_compress_blob(z, in, n, c,
	    gfsb_compress_bound(n), &clen), GFSB_OK);
	assert_int_equal(clen, 0);
	/* Level 0 never compresses. */
	memset(in, 'a', n);
	assert_int_equal(gfsb_compress_new(0, &off), GFSB_OK);
	clen = 99;
	assert_int_equal(gfsb_compress_blob(off, in, n, c,
	    gfsb_compress_bound(n), &clen), GFSB_OK);
	assert_int_equal(clen, 0);
	assert_int_equal(gfsb_compress_new(20, &off), GFSB_EINVAL);
	gfsb_compress_free(z);
	gfsb_compress_free(off);
	free(in);
	free(c);
}

/* A frame that expands to 1 GiB is refused without allocating it. */
static void
test_bomb_is_bounded(void **state)
{
	struct gfsb_compress *z;
	size_t big = 1U << 30, cap = ZSTD_compressBound(64 << 20), clen;
	uint8_t *zeros = calloc(1, 64 << 20), *c = malloc(cap), *out;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_outBuffer ob = { c, cap, 0 };
	size_t i;

	(void)state;
	/* Stream 16 x 64 MiB of zeros into one frame of about 32 KiB. */
	ZSTD_CCtx_setPledgedSrcSize(cc, big);
	for (i = 0; i < 16; i++) {
		ZSTD_inBuffer ib = { zeros, 64 << 20, 0 };

		while (ib.pos < ib.size)
			assert_false(ZSTD_isError(ZSTD_compressStream2(cc, &ob,
			    &ib, ZSTD_e_continue)));
	}
	{
		ZSTD_inBuffer ib = { NULL, 0, 0 };

		while (ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end) != 0)
			;
	}
	clen = ob.pos;
	assert_true(clen < (1 << 20));
	assert_int_equal(gfsb_compress_new(3, &z), GFSB_OK);
	out = malloc(1 << 20);
	assert_int_equal(gfsb_compress_unblob(z, c, clen, out, 1 << 20),
	    GFSB_ECORRUPT);
	/* Garbage is an error, not a crash. */
	memset(c, 0xa5, 4096);
	assert_int_equal(gfsb_compress_unblob(z, c, 4096, out, 1 << 20),
	    GFSB_ECORRUPT);
	gfsb_compress_free(z);
	ZSTD_freeCCtx(cc);
	free(out);
	free(zeros);
	free(c);
}

/*
 * A frame must declare its content size, and declare the expected one:
 * every writer of ours does (ZSTD_compress2 knows the size), so a frame
 * without one was not written by us, and refusing it lets a reader know
 * what a frame expands to before decompressing anything.
 */
static void
test_size_must_be_declared(void **state)
{
	struct gfsb_compress *z;
	uint8_t in[4096], c[8192], out[4096];
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t clen;

	(void)state;
	memset(in, 'x', sizeof(in));
	assert_int_equal(gfsb_compress_new(3, &z), GFSB_OK);
	/* Ours declares it and opens. */
	assert_int_equal(gfsb_compress_blob(z, in, sizeof(in), c, sizeof(c),
	    &clen), GFSB_OK);
	assert_int_equal(ZSTD_getFrameContentSize(c, clen), sizeof(in));
	assert_int_equal(gfsb_compress_unblob(z, c, clen, out, sizeof(out)),
	    GFSB_OK);
	assert_memory_equal(in, out, sizeof(in));
	/* The same bytes in a frame that does not declare its size. */
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
	clen = ZSTD_compress2(cc, c, sizeof(c), in, sizeof(in));
	assert_false(ZSTD_isError(clen));
	assert_true(ZSTD_getFrameContentSize(c, clen) ==
	    ZSTD_CONTENTSIZE_UNKNOWN);
	assert_int_equal(gfsb_compress_unblob(z, c, clen, out, sizeof(out)),
	    GFSB_ECORRUPT);
	ZSTD_freeCCtx(cc);
	gfsb_compress_free(z);
}

/*
 * Blobs of every size range, in an order that moves between the ranges,
 * compress to what one fresh zstd context at the same level gives: the
 * per-range contexts change only where zstd keeps its tables.  Each also
 * decompresses back.
 */
static void
test_contexts_do_not_change_output(void **state)
{
	static const size_t sizes[] = { 900, 600000, 1500, 20000, 3000,
	    200000, 6000, 12000, 16384, 16385, 300000, 1024, 1025, 700 };
	size_t max = 600000, i, pass, got, want;
	uint8_t *in = malloc(max), *a = malloc(ZSTD_compressBound(max));
	uint8_t *b = malloc(ZSTD_compressBound(max)), *back = malloc(max);
	struct gfsb_compress *z;
	ZSTD_CCtx *ref;

	(void)state;
	assert_non_null(in);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(back);
	/* Text-like: compressible, so every blob is compressed. */
	for (i = 0; i < max; i++)
		in[i] = (uint8_t)("backup chunk pack index tree "[i % 29] ^
		    (i / 4096 % 3));
	assert_int_equal(gfsb_compress_new(3, &z), GFSB_OK);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t n = sizes[i];

			assert_int_equal(gfsb_compress_blob(z, in, n, a,
			    ZSTD_compressBound(max), &got), GFSB_OK);
			assert_true(got > 0);
			ref = ZSTD_createCCtx();
			assert_non_null(ref);
			ZSTD_CCtx_setParameter(ref, ZSTD_c_compressionLevel, 3);
			ZSTD_CCtx_setParameter(ref, ZSTD_c_checksumFlag, 0);
			want = ZSTD_compress2(ref, b, ZSTD_compressBound(max),
			    in, n);
			ZSTD_freeCCtx(ref);
			assert_false(ZSTD_isError(want));
			assert_int_equal(got, want);
			assert_memory_equal(a, b, got);
			assert_int_equal(gfsb_compress_unblob(z, a, got, back,
			    n), GFSB_OK);
			assert_memory_equal(back, in, n);
		}
	gfsb_compress_free(z);
	free(in);
	free(a);
	free(b);
	free(back);
}

int
main(void)
{
	struct gfsb_ctx *ctx;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_incompressible_stored_raw),
		cmocka_unit_test(test_contexts_do_not_change_output),
		cmocka_unit_test(test_bomb_is_bounded),
		cmocka_unit_test(test_size_must_be_declared),
	};

	if (gfsb_ctx_new(&ctx) != GFSB_OK)
		return 1;
	gfsb_ctx_free(ctx);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
