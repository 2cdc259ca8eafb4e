/* chunker: FastCDC boundaries are deterministic, independent of how the
 * input is split, within min/max, and survive insertions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gfsbackup/chunker.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/util.h>

#define DATA_LEN (64U << 20)

static uint8_t *data;

/* xorshift64*: deterministic test data. */
static void
fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		uint64_t v = x * 0x2545F4914F6CDD1DULL;
		memcpy(p + i, &v, 8);
	}
	for (; i < n; i++)
		p[i] = (uint8_t)i;
}

static struct gfsb_chunker *
make(uint8_t seedbyte, const struct gfsb_chunker_params *p)
{
	uint8_t seed[GFSB_KEY_LEN];
	uint64_t gear[256];
	struct gfsb_chunker *ck;
	struct gfsb_chunker_params def = { GFSB_CHUNK_MIN_DEFAULT,
		GFSB_CHUNK_AVG_DEFAULT, GFSB_CHUNK_MAX_DEFAULT };

	memset(seed, seedbyte, sizeof(seed));
	gfsb_crypto_expand(seed, gear, sizeof(gear));
	assert_int_equal(gfsb_chunker_new(p ? p : &def, gear, &ck), GFSB_OK);
	return ck;
}

/* Chunk p[0..n) in one go; returns the number of chunks, lengths in out. */
static size_t
chunk_all(const struct gfsb_chunker *ck, const uint8_t *p, size_t n,
    size_t *out, size_t cap)
{
	size_t k = 0, c;

	while (n > 0) {
		c = gfsb_chunker_next(ck, p, n);
		assert_true(c > 0 && c <= n);
		assert_true(k < cap);
		out[k++] = c;
		p += c;
		n -= c;
	}
	return k;
}

static uint64_t
fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n-- > 0)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

static void
test_deterministic_and_bounded(void **state)
{
	struct gfsb_chunker *ck = make(1, NULL);
	static size_t a[4096], b[4096];
	size_t na, nb, i, total = 0;

	(void)state;
	na = chunk_all(ck, data, DATA_LEN, a, 4096);
	nb = chunk_all(ck, data, DATA_LEN, b, 4096);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	for (i = 0; i < na; i++) {
		total += a[i];
		if (i + 1 < na)
			assert_true(a[i] >= GFSB_CHUNK_MIN_DEFAULT);
		assert_true(a[i] <= GFSB_CHUNK_MAX_DEFAULT);
	}
	assert_int_equal(total, DATA_LEN);
	/* Normalized chunking keeps the mean near the target. */
	assert_true(DATA_LEN / na >= GFSB_CHUNK_AVG_DEFAULT / 2);
	assert_true(DATA_LEN / na <= 2 * GFSB_CHUNK_AVG_DEFAULT);
	gfsb_chunker_free(ck);
}

/* Feeding the data in odd-sized reads gives the same boundaries. */
static void
test_streaming_matches(void **state)
{
	struct gfsb_chunker *ck = make(1, NULL);
	struct gfsb_chunker_scan s;
	static size_t a[4096];
	size_t na, k = 0, start = 0, have = 0, step = 1, c;

	(void)state;
	na = chunk_all(ck, data, DATA_LEN, a, 4096);
	gfsb_chunker_scan_init(&s);
	while (start < DATA_LEN) {
		/* Grow the visible window by an irregular step. */
		step = (step * 7919 + 13) % 300007 + 1;
		have += step;
		if (start + have > DATA_LEN)
			have = DATA_LEN - start;
		while ((c = gfsb_chunker_find(ck, &s, data + start, have)) >
		    0) {
			assert_true(k < na);
			assert_int_equal(c, a[k]);
			k++;
			start += c;
			have -= c;
			gfsb_chunker_scan_init(&s);
		}
		if (start + have == DATA_LEN && have > 0) {
			assert_int_equal(have, a[k]); /* the last chunk */
			k++;
			start += have;
			have = 0;
		}
	}
	assert_int_equal(k, na);
	gfsb_chunker_free(ck);
}

static int
cmp64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Insert a few bytes at the start: at least 90% of chunks come back. */
static void
test_insertion_reuses_chunks(void **state)
{
	struct gfsb_chunker *ck = make(1, NULL);
	static size_t a[4096], b[4096];
	static uint64_t ha[4096];
	uint8_t *mod = malloc(DATA_LEN + 7);
	size_t na, nb, i, off = 0, same = 0;
	uint64_t h;

	(void)state;
	assert_non_null(mod);
	memcpy(mod, "INSERT!", 7);
	memcpy(mod + 7, data, DATA_LEN);
	na = chunk_all(ck, data, DATA_LEN, a, 4096);
	for (i = 0; i < na; i++) {
		ha[i] = fnv(data + off, a[i]);
		off += a[i];
	}
	qsort(ha, na, sizeof(ha[0]), cmp64);
	nb = chunk_all(ck, mod, DATA_LEN + 7, b, 4096);
	off = 0;
	for (i = 0; i < nb; i++) {
		h = fnv(mod + off, b[i]);
		if (bsearch(&h, ha, na, sizeof(ha[0]), cmp64) != NULL)
			same++;
		off += b[i];
	}
	print_message("insertion: %zu of %zu chunks reused\n", same, nb);
	assert_true(same * 10 >= nb * 9);
	free(mod);
	gfsb_chunker_free(ck);
}

/* Another repository (another secret seed) cuts elsewhere. */
static void
test_seed_changes_boundaries(void **state)
{
	struct gfsb_chunker *c1 = make(1, NULL), *c2 = make(2, NULL);
	static size_t a[4096], b[4096];
	size_t na, nb;

	(void)state;
	na = chunk_all(c1, data, 16U << 20, a, 4096);
	nb = chunk_all(c2, data, 16U << 20, b, 4096);
	assert_true(na != nb || memcmp(a, b, na * sizeof(a[0])) != 0);
	gfsb_chunker_free(c1);
	gfsb_chunker_free(c2);
}

static void
test_params(void **state)
{
	struct gfsb_chunker_params p = { 64, 256, 1024 };
	struct gfsb_chunker *ck;
	static size_t a[1 << 16];
	size_t n, i;
	uint64_t gear[256] = { 0 };

	(void)state;
	assert_int_equal(gfsb_chunker_params_check(&p), GFSB_OK);
	p.avg = 300; /* not a power of two */
	assert_int_equal(gfsb_chunker_params_check(&p), GFSB_EINVAL);
	p = (struct gfsb_chunker_params){ 512, 256, 1024 };
	assert_int_equal(gfsb_chunker_new(&p, gear, &ck), GFSB_EINVAL);
	p = (struct gfsb_chunker_params){ 32, 64, 128 };
	assert_int_equal(gfsb_chunker_params_check(&p), GFSB_EINVAL);
	p = (struct gfsb_chunker_params){ 1 << 20, 1 << 21, 128U << 20 };
	assert_int_equal(gfsb_chunker_params_check(&p), GFSB_EINVAL);
	/* Small sizes work the same way. */
	p = (struct gfsb_chunker_params){ 64, 256, 1024 };
	ck = make(3, &p);
	n = chunk_all(ck, data, 1U << 20, a, 1 << 16);
	for (i = 0; i + 1 < n; i++)
		assert_true(a[i] >= 64 && a[i] <= 1024);
	assert_int_equal(gfsb_chunker_next(ck, data, 0), 0);
	assert_int_equal(gfsb_chunker_next(ck, data, 10), 10);
	gfsb_chunker_free(ck);
}

static int
setup(void **state)
{
	(void)state;
	if ((data = malloc(DATA_LEN)) == NULL)
		return -1;
	fill(data, DATA_LEN, 42);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(data);
	return 0;
}

int
main(void)
{
	struct gfsb_ctx *ctx;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic_and_bounded),
		cmocka_unit_test(test_streaming_matches),
		cmocka_unit_test(test_insertion_reuses_chunks),
		cmocka_unit_test(test_seed_changes_boundaries),
		cmocka_unit_test(test_params),
	};

	if (gfsb_ctx_new(&ctx) != GFSB_OK) /* initialises libsodium */
		return 1;
	gfsb_ctx_free(ctx);
	return cmocka_run_group_tests(tests, setup, teardown);
}
