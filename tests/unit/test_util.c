/* util: buffers, the bounded reader, hex, sizes, times. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include <gfsbackup/util.h>

static void
test_buf_and_reader(void **state)
{
	struct gfsb_buf b;
	struct gfsb_rd r;
	size_t len;
	uint8_t *p;

	(void)state;
	gfsb_buf_init(&b);
	assert_int_equal(gfsb_buf_put_u8(&b, 0x12), GFSB_OK);
	assert_int_equal(gfsb_buf_put_u16(&b, 0x3456), GFSB_OK);
	assert_int_equal(gfsb_buf_put_u32(&b, 0x789abcde), GFSB_OK);
	assert_int_equal(gfsb_buf_put_u64(&b, 0x0102030405060708ULL), GFSB_OK);
	assert_int_equal(b.len, 15);
	assert_int_equal(b.data[1], 0x56); /* little-endian */
	gfsb_rd_init(&r, b.data, b.len);
	assert_int_equal(gfsb_rd_u8(&r), 0x12);
	assert_int_equal(gfsb_rd_u16(&r), 0x3456);
	assert_int_equal(gfsb_rd_u32(&r), 0x789abcde);
	assert_true(gfsb_rd_u64(&r) == 0x0102030405060708ULL);
	assert_false(r.bad);
	assert_int_equal(gfsb_rd_left(&r), 0);
	/* Reading past the end is sticky and returns zeros. */
	assert_int_equal(gfsb_rd_u32(&r), 0);
	assert_true(r.bad);
	assert_null(gfsb_rd_bytes(&r, 1));
	gfsb_rd_init(&r, b.data, 3);
	assert_null(gfsb_rd_bytes(&r, 4));
	assert_true(r.bad);
	p = gfsb_buf_take(&b, &len);
	assert_int_equal(len, 15);
	assert_null(b.data);
	free(p);
}

static void
test_hex(void **state)
{
	uint8_t in[4] = { 0x00, 0xab, 0xcd, 0xff }, out[4];
	char hex[9];

	(void)state;
	gfsb_hex_encode(in, 4, hex);
	assert_string_equal(hex, "00abcdff");
	assert_int_equal(gfsb_hex_decode("00ABcdff", out, 4), GFSB_OK);
	assert_memory_equal(in, out, 4);
	assert_int_equal(gfsb_hex_decode("00abcdf", out, 4), GFSB_EINVAL);
	assert_int_equal(gfsb_hex_decode("00abcdffff", out, 4), GFSB_EINVAL);
	assert_int_equal(gfsb_hex_decode("00abcdfg", out, 4), GFSB_EINVAL);
}

static void
test_sizes(void **state)
{
	uint64_t v;
	char buf[32];

	(void)state;
	assert_int_equal(gfsb_size_parse("16M", &v), GFSB_OK);
	assert_true(v == 16ULL << 20);
	assert_int_equal(gfsb_size_parse("512KiB", &v), GFSB_OK);
	assert_true(v == 512ULL << 10);
	assert_int_equal(gfsb_size_parse("7", &v), GFSB_OK);
	assert_true(v == 7);
	assert_int_equal(gfsb_size_parse("1G", &v), GFSB_OK);
	assert_true(v == 1ULL << 30);
	assert_int_equal(gfsb_size_parse("", &v), GFSB_EINVAL);
	assert_int_equal(gfsb_size_parse("M", &v), GFSB_EINVAL);
	assert_int_equal(gfsb_size_parse("12X", &v), GFSB_EINVAL);
	assert_int_equal(gfsb_size_parse("-1", &v), GFSB_EINVAL);
	assert_int_equal(gfsb_size_parse("99999999999999999999", &v),
	    GFSB_EINVAL);
	assert_int_equal(gfsb_size_parse("99999999999T", &v), GFSB_EINVAL);
	assert_string_equal(gfsb_size_format(312, buf, sizeof(buf)), "312 B");
	assert_string_equal(gfsb_size_format(3ULL << 29, buf, sizeof(buf)),
	    "1.50 GiB");
}

/* Durations round up: a projection is never shown shorter than it is. */
static void
test_durations(void **state)
{
	static const struct {
		double s;
		const char *want;
	} v[] = {
		{ 0, "0 s" }, { 0.3, "1 s" }, { 45, "45 s" }, { 59.5, "1 min" },
		{ 60, "1 min" }, { 61, "2 min" }, { 2280, "38 min" },
		{ 3599, "1 h" }, { 3600, "1 h" }, { 3601, "1 h 1 min" },
		{ 8040, "2 h 14 min" }, { 8040.2, "2 h 15 min" },
		{ 14400, "4 h" }, { 90000, "25 h" }, { -1, "unknown" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_string_equal(gfsb_duration_format(v[i].s, buf,
		    sizeof(buf)), v[i].want);
	assert_string_equal(gfsb_duration_format(0.0 / 0.0, buf, sizeof(buf)),
	    "unknown");
}

static void
test_times(void **state)
{
	struct gfsb_time t, u;
	char buf[64];

	(void)state;
	setenv("TZ", "Europe/Paris", 1);
	assert_int_equal(gfsb_time_parse_local("2026-03-29 01:30:00", &t),
	    GFSB_OK);
	assert_true(t.sec == 1774744200); /* 00:30 UTC, before DST */
	gfsb_time_format_rfc3339(&t, buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-29T01:30:00.000000000+01:00");
	assert_int_equal(gfsb_time_parse_rfc3339(buf, &u), GFSB_OK);
	assert_int_equal(gfsb_time_cmp(&t, &u), 0);
	assert_int_equal(gfsb_time_parse_rfc3339("2026-07-01T12:00:00.5Z",
	    &u), GFSB_OK);
	assert_int_equal(u.nsec, 500000000);
	gfsb_time_format_local(&u, buf, sizeof(buf));
	assert_string_equal(buf, "2026-07-01 14:00:00"); /* CEST */
	/* Malformed or impossible input is refused. */
	assert_int_equal(gfsb_time_parse_local("2026-02-30 00:00:00", &t),
	    GFSB_EINVAL);
	assert_int_equal(gfsb_time_parse_local("2026-13-01 00:00:00", &t),
	    GFSB_EINVAL);
	assert_int_equal(gfsb_time_parse_local("2026-01-01", &t), GFSB_EINVAL);
	assert_int_equal(gfsb_time_parse_local("2026-01-01 00:00:00x", &t),
	    GFSB_EINVAL);
	assert_int_equal(gfsb_time_parse_rfc3339("2026-01-01T00:00:00", &t),
	    GFSB_EINVAL);
	unsetenv("TZ");
}

static int log_calls;

static void
count_log(void *cookie, enum gfsb_log_level level, const char *msg)
{
	(void)cookie;
	(void)level;
	(void)msg;
	log_calls++;
}

static void
test_ctx(void **state)
{
	struct gfsb_ctx *ctx;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "");
	assert_int_equal(gfsb_ctx_seterr(ctx, GFSB_EIO, "first %d", 1),
	    GFSB_EIO);
	gfsb_ctx_seterr(ctx, GFSB_ECORRUPT, "second");
	assert_string_equal(gfsb_ctx_errmsg(ctx), "first 1");
	gfsb_ctx_clearerr(ctx);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "");
	/* Damage recorded by a check that went on gives way to the failure
	 * to look that stopped the operation; not the other way round. */
	gfsb_ctx_seterr(ctx, GFSB_ECORRUPT, "blob damaged");
	gfsb_ctx_seterr(ctx, GFSB_ENOTFOUND, "pack missing");
	assert_string_equal(gfsb_ctx_errmsg(ctx), "blob damaged");
	gfsb_ctx_seterr(ctx, GFSB_ENET, "GET data/x: HTTP 500");
	assert_string_equal(gfsb_ctx_errmsg(ctx), "GET data/x: HTTP 500");
	gfsb_ctx_seterr(ctx, GFSB_ECORRUPT, "blob damaged");
	gfsb_ctx_seterr(ctx, GFSB_EDENIED, "403");
	assert_string_equal(gfsb_ctx_errmsg(ctx), "GET data/x: HTTP 500");
	gfsb_ctx_clearerr(ctx);
	assert_true(gfsb_err_is_damage(GFSB_ECORRUPT));
	assert_true(gfsb_err_is_damage(GFSB_ENOTFOUND));
	assert_true(gfsb_err_is_damage(GFSB_EUNSUPPORTED));
	assert_false(gfsb_err_is_damage(GFSB_ENET));
	assert_false(gfsb_err_is_damage(GFSB_EDENIED));
	assert_false(gfsb_err_is_damage(GFSB_EIO));
	assert_false(gfsb_err_is_damage(GFSB_OK));
	gfsb_ctx_set_log(ctx, count_log, NULL);
	gfsb_ctx_log(ctx, GFSB_LOG_WARN, "x");
	assert_int_equal(log_calls, 1);
	assert_false(gfsb_ctx_canceled(ctx));
	gfsb_ctx_cancel(ctx);
	assert_true(gfsb_ctx_canceled(ctx));
	assert_string_equal(gfsb_strerror(GFSB_EAUTH), "wrong passphrase");
	assert_string_equal(gfsb_strerror((gfsb_err)999), "unknown error");
	gfsb_ctx_free(ctx);
}

/* What each -v shows of the log, and with which prefix. */
static void
test_log_prefix(void **state)
{
	(void)state;
	assert_string_equal(gfsb_ctx_log_prefix(GFSB_LOG_ERROR, 0), "error: ");
	assert_string_equal(gfsb_ctx_log_prefix(GFSB_LOG_WARN, 0),
	    "warning: ");
	assert_null(gfsb_ctx_log_prefix(GFSB_LOG_INFO, 0));
	assert_null(gfsb_ctx_log_prefix(GFSB_LOG_DEBUG, 0));
	assert_string_equal(gfsb_ctx_log_prefix(GFSB_LOG_INFO, 1), "");
	assert_null(gfsb_ctx_log_prefix(GFSB_LOG_DEBUG, 1));
	assert_string_equal(gfsb_ctx_log_prefix(GFSB_LOG_DEBUG, 2), "");
	assert_string_equal(gfsb_ctx_log_prefix(GFSB_LOG_ERROR, 2), "error: ");
}

/* Whole writes and reads of a real file: a read past the end is short,
 * a bad descriptor is an error with errno. */
static void
test_fd_io(void **state)
{
	char path[] = "/tmp/gfsb-test-util-XXXXXX";
	uint8_t data[200000], back[sizeof(data)];
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 256);
	assert_true((fd = mkstemp(path)) >= 0);
	unlink(path);
	assert_int_equal(gfsb_sys_write_full(fd, data, sizeof(data)), 0);
	assert_int_equal(gfsb_sys_pread_full(fd, back, sizeof(back), 0),
	    (ssize_t)sizeof(back));
	assert_memory_equal(data, back, sizeof(data));
	assert_int_equal(gfsb_sys_pread_full(fd, back, 100, 1000), 100);
	assert_memory_equal(data + 1000, back, 100);
	assert_int_equal(gfsb_sys_pread_full(fd, back, 100, sizeof(data) - 40),
	    40);
	assert_int_equal(gfsb_sys_pread_full(fd, back, 100, sizeof(data)), 0);
	close(fd);
	errno = 0;
	assert_int_equal(gfsb_sys_pread_full(fd, back, 10, 0), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(gfsb_sys_write_full(fd, data, 10), -1);
	assert_int_equal(errno, EBADF);
}

/* The process that holds keys: no core, not dumpable, no key log. */
static void
test_harden(void **state)
{
	struct rlimit core, files, max;

	(void)state;
	assert_int_equal(setenv("SSLKEYLOGFILE", "/tmp/keys.log", 1), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &max), 0);
	gfsb_sys_harden();
	assert_int_equal(getrlimit(RLIMIT_CORE, &core), 0);
	assert_int_equal(core.rlim_cur, 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
	assert_null(getenv("SSLKEYLOGFILE"));
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &files), 0);
	assert_true(files.rlim_cur == max.rlim_max);
}

/* Whether the mapping holding p may get transparent huge pages
 * (/proc/self/smaps' THPeligible); -1 if the kernel does not say. */
static int
thp_eligible(const void *p)
{
	char line[256];
	unsigned long lo, hi;
	int in = 0, v = -1;
	FILE *f;

	if ((f = fopen("/proc/self/smaps", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, ' ') == line + strcspn(line, " ")) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && sscanf(line, "THPeligible: %d", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

/* Whether the kernel gives huge pages to memory that asks for them. */
static int
thp_on_advice(void)
{
	char mode[128] = "";
	FILE *f;

	if ((f = fopen("/sys/kernel/mm/transparent_hugepage/enabled",
	    "r")) == NULL)
		return 0;
	if (fgets(mode, sizeof(mode), f) == NULL)
		mode[0] = '\0';
	fclose(f);
	return strstr(mode, "[never]") == NULL && mode[0] != '\0';
}

/*
 * The buffer pool: the smallest idle buffer that fits is given, its count
 * and idle bytes are bounded, small buffers are malloc's and never kept;
 * from a megabyte up, buffers are whole 2 MiB pages, aligned, and (where
 * the kernel has transparent huge pages) eligible for them.
 */
static void
test_pool(void **state)
{
	const size_t mib = (size_t)1 << 20;
	struct gfsb_pool *p;
	void *a, *b, *c, *d;
	size_t ca, cb, cc, cd;

	(void)state;
	assert_int_equal(gfsb_pool_new(2, 9 * mib, 4096, &p), GFSB_OK);
	/* Small: malloc'd at its size, and a put frees it. */
	a = gfsb_pool_get(p, 100, &ca);
	assert_non_null(a);
	assert_int_equal(ca, 100);
	gfsb_pool_put(p, a, ca);
	/* Huge pages from a megabyte up. */
	a = gfsb_pool_get(p, 3 * mib, &ca);
	b = gfsb_pool_get(p, mib + 1, &cb);
	c = gfsb_pool_get(p, 512 << 10, &cc);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(ca, 4 * mib);
	assert_int_equal(cb, 2 * mib);
	assert_int_equal(cc, 512 << 10);
	assert_int_equal((uintptr_t)a % (2 * mib), 0);
	assert_int_equal((uintptr_t)b % (2 * mib), 0);
	memset(a, 1, ca);
	memset(b, 2, cb);
	if (thp_on_advice() && thp_eligible(a) >= 0) {
		assert_int_equal(thp_eligible(a), 1);
		assert_int_equal(thp_eligible(b), 1);
	}
	/* Kept while within count and bytes: 4 + 2 MiB; the 512 KiB one
	 * would be a third buffer, freed. */
	gfsb_pool_put(p, a, ca);
	gfsb_pool_put(p, b, cb);
	gfsb_pool_put(p, c, cc);
	/* The smallest that fits: b for 1.5 MiB, then a for anything up to
	 * 4 MiB. */
	d = gfsb_pool_get(p, 3 * mib / 2, &cd);
	assert_ptr_equal(d, b);
	assert_int_equal(cd, 2 * mib);
	c = gfsb_pool_get(p, 600 << 10, &cc);
	assert_ptr_equal(c, a);
	assert_int_equal(cc, 4 * mib);
	/* Too big for any idle buffer: a new one. */
	gfsb_pool_put(p, c, cc);
	a = gfsb_pool_get(p, 5 * mib, &ca);
	assert_non_null(a);
	assert_int_equal(ca, 6 * mib);
	/* Within the idle bytes, 6 + 2 MiB: both kept. */
	gfsb_pool_put(p, a, ca);
	gfsb_pool_put(p, d, cd);
	c = gfsb_pool_get(p, 5 * mib, &cc);
	assert_ptr_equal(c, a);
	free(c);
	gfsb_pool_free(p);
}

/* How many of the n pages at p are in memory. */
static size_t
resident(unsigned char *p, size_t n)
{
	unsigned char vec[64];
	size_t i, k = 0;

	assert_true(n <= sizeof(vec));
	assert_int_equal(mincore(p, n * 4096, vec), 0);
	for (i = 0; i < n; i++)
		k += vec[i] & 1;
	return k;
}

/*
 * gfsb_memwipe zeroes every byte written in the range, from an unaligned
 * start to an unaligned end, and faults in no page that was never
 * written; a short range is wiped whole.
 */
static void
test_memwipe(void **state)
{
	const size_t pg = 4096, npg = 64;
	static const size_t touched[] = { 0, 3, 10, 40, 63 };
	unsigned char *m, *p;
	size_t i, n;

	(void)state;
	assert_int_equal((size_t)sysconf(_SC_PAGESIZE), pg);
	m = mmap(NULL, npg * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	for (i = 0; i < sizeof(touched) / sizeof(touched[0]); i++)
		memset(m + touched[i] * pg, 0xA5, pg);
	assert_int_equal(resident(m, npg), 5);
	/* From byte 100 of page 0 to byte 4000 of page 63. */
	p = m + 100;
	n = 63 * pg + 4000 - 100;
	gfsb_memwipe(p, n);
	/* Before reading: reading a page maps one (of zeros). */
	assert_int_equal(resident(m, npg), 5);
	for (i = 0; i < n; i++)
		if (p[i] != 0)
			fail_msg("byte %zu left", i);
	/* Outside the range: kept. */
	assert_int_equal(m[99], 0xA5);
	assert_int_equal(m[63 * pg + 4000], 0xA5);
	/* A short range (under four pages) is wiped whole. */
	memset(m + 20 * pg, 0x5A, 10);
	gfsb_memwipe(m + 20 * pg, 3 * pg);
	for (i = 0; i < 10; i++)
		assert_int_equal(m[20 * pg + i], 0);
	assert_int_equal(munmap(m, npg * pg), 0);
}

/*
 * jansson's allocator wipes (util_json.c) once a context exists, and
 * JSON round-trips through it; a string json_dumps returns is still
 * plain malloc's, for free().
 */
static void
test_json_wipes(void **state)
{
	struct gfsb_ctx *ctx;
	json_t *o;
	char *text;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_true(gfsb_json_wipes());
	assert_non_null(o = json_pack("{s:s, s:i}", "seed", "00ff", "n", 3));
	assert_non_null(text = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER));
	assert_string_equal(text, "{\"seed\":\"00ff\",\"n\":3}");
	free(text);
	json_decref(o);
	gfsb_ctx_free(ctx);
}

/* UTF-8 as RFC 3629 has it (what a snapshot may record as text). */
static void
test_utf8(void **state)
{
	static const char *const good[] = { "", "/srv/www", "caf\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x92\xbe", "\xf4\x8f\xbf\xbf" };
	static const char *const bad[] = { "caf\xe9", "\xc3", "\xc0\xaf",
		"\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xff", "\x80", "a\xe2\x82" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!gfsb_utf8_valid(good[i]))
			fail_msg("good %zu refused", i);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (gfsb_utf8_valid(bad[i]))
			fail_msg("bad %zu accepted", i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_and_reader),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_memwipe),
		cmocka_unit_test(test_json_wipes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_ctx),
		cmocka_unit_test(test_log_prefix),
		cmocka_unit_test(test_fd_io),
		cmocka_unit_test(test_harden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
