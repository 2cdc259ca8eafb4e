/*
 * ops: exclude/include pattern semantics, path cleaning, a
 * verification's facts in the report; verify never takes a storage
 * failure for damage (in-memory backend); the offsite bucket's policy;
 * a restore file writer's own working directory.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops/ops_internal.h"

static struct gfsb_patterns *
compile(const char *a, const char *b)
{
	const char *v[2] = { a, b };
	struct gfsb_patterns *p;

	assert_int_equal(gfsb_ops_patterns_new(v, b ? 2 : 1, &p), GFSB_OK);
	return p;
}

static void
test_unanchored(void **state)
{
	struct gfsb_patterns *p = compile("*.tmp", "cache");

	(void)state;
	assert_true(gfsb_ops_patterns_match(p, "/a.tmp"));
	assert_true(gfsb_ops_patterns_match(p, "/home/u/x/b.tmp"));
	assert_true(gfsb_ops_patterns_match(p, "/home/u/cache"));
	assert_false(gfsb_ops_patterns_match(p, "/home/u/cache2"));
	assert_false(gfsb_ops_patterns_match(p, "/home/u/a.tmp.gz"));
	assert_false(gfsb_ops_patterns_match(p, "/home/u/tmp"));
	gfsb_ops_patterns_free(p);
}

static void
test_anchored_and_globstar(void **state)
{
	struct gfsb_patterns *p = compile("/var/cache", "/home/*/.cache");
	struct gfsb_patterns *q = compile("/srv/**/logs/*.log", NULL);

	(void)state;
	assert_true(gfsb_ops_patterns_match(p, "/var/cache"));
	assert_false(gfsb_ops_patterns_match(p, "/x/var/cache"));
	assert_false(gfsb_ops_patterns_match(p, "/var/cache2"));
	assert_true(gfsb_ops_patterns_match(p, "/home/alice/.cache"));
	assert_false(gfsb_ops_patterns_match(p, "/home/alice/x/.cache"));
	assert_true(gfsb_ops_patterns_match(q, "/srv/logs/a.log"));
	assert_true(gfsb_ops_patterns_match(q, "/srv/a/b/c/logs/a.log"));
	assert_false(gfsb_ops_patterns_match(q, "/srv/a/logs/sub/a.log"));
	/* Directories on the way to a possible match. */
	assert_true(gfsb_ops_patterns_may_match_below(p, "/home"));
	assert_true(gfsb_ops_patterns_may_match_below(p, "/home/bob"));
	assert_false(gfsb_ops_patterns_may_match_below(p, "/etc"));
	assert_true(gfsb_ops_patterns_may_match_below(q, "/srv/deep/er"));
	gfsb_ops_patterns_free(p);
	gfsb_ops_patterns_free(q);
}

static void
test_bad_patterns(void **state)
{
	const char *empty[1] = { "" }, *slash[1] = { "///" };
	struct gfsb_patterns *p;

	(void)state;
	assert_int_equal(gfsb_ops_patterns_new(empty, 1, &p), GFSB_EINVAL);
	assert_int_equal(gfsb_ops_patterns_new(slash, 1, &p), GFSB_EINVAL);
	assert_int_equal(gfsb_ops_patterns_new(NULL, 0, &p), GFSB_OK);
	assert_false(gfsb_ops_patterns_match(p, "/anything"));
	gfsb_ops_patterns_free(p);
	/* Trailing slashes do not matter. */
	p = compile("/var/tmp/", NULL);
	assert_true(gfsb_ops_patterns_match(p, "/var/tmp"));
	gfsb_ops_patterns_free(p);
}

static void
test_pattern_file(void **state)
{
	char path[] = "/tmp/gfsb-excl-XXXXXX", **v;
	struct gfsb_ctx *ctx;
	size_t n, i;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_true((fd = mkstemp(path)) >= 0);
	f = fdopen(fd, "w");
	fputs("# comment\n\n*.iso  \r\n/var/cache\n", f);
	fclose(f);
	assert_int_equal(gfsb_ops_patterns_read_file(ctx, path, &v, &n),
	    GFSB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "*.iso");
	assert_string_equal(v[1], "/var/cache");
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	unlink(path);
	assert_int_equal(gfsb_ops_patterns_read_file(ctx, path, &v, &n),
	    GFSB_ENOTFOUND);
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx), path));
	gfsb_ctx_free(ctx);
}

/* The paths given, then each list's, read as its format says. */
static void
test_list_gather(void **state)
{
	char lines[] = "/tmp/gfsb-lines-XXXXXX", raw[] = "/tmp/gfsb-raw-XXXXXX";
	const char *const args[] = { "/a" }, *lf[] = { lines }, *rf[] = { raw };
	struct gfsb_list_files from[3] = { { lf, 1 }, { NULL, 0 }, { rf, 1 } };
	struct gfsb_list_files none[3] = { { NULL, 0 } };
	struct gfsb_ctx *ctx;
	size_t n, i;
	char **v;
	int fd;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_true((fd = mkstemp(lines)) >= 0);
	assert_int_equal(write(fd, "# c\n/b  \n\n/c\n", 13), 13);
	close(fd);
	assert_true((fd = mkstemp(raw)) >= 0);
	assert_int_equal(write(fd, "/d e\n\0/f", 8), 8);
	close(fd);
	assert_int_equal(gfsb_ops_list_gather(ctx, args, 1, from, &v, &n),
	    GFSB_OK);
	assert_int_equal(n, 5);
	assert_string_equal(v[0], "/a");
	assert_string_equal(v[1], "/b");
	assert_string_equal(v[2], "/c");
	assert_string_equal(v[3], "/d e\n");
	assert_string_equal(v[4], "/f");
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	/* Nothing to back up is refused; so is a list that is not there. */
	assert_int_equal(gfsb_ops_list_gather(ctx, NULL, 0, none, &v, &n),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "no paths to back up");
	gfsb_ctx_clearerr(ctx);
	unlink(raw);
	assert_int_equal(gfsb_ops_list_gather(ctx, args, 1, from, &v, &n),
	    GFSB_ENOTFOUND);
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx), "--files-from-raw list"));
	unlink(lines);
	gfsb_ctx_free(ctx);
}

static void
test_path_clean(void **state)
{
	char out[256], cwd[200];

	(void)state;
	assert_int_equal(gfsb_ops_path_clean("/a//b/./c/../d/", out,
	    sizeof(out)), GFSB_OK);
	assert_string_equal(out, "/a/b/d");
	assert_int_equal(gfsb_ops_path_clean("/../..", out, sizeof(out)),
	    GFSB_OK);
	assert_string_equal(out, "/");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(gfsb_ops_path_clean("x/y", out, sizeof(out)),
	    GFSB_OK);
	assert_int_equal(strncmp(out, cwd, strlen(cwd)), 0);
	assert_string_equal(out + strlen(out) - 4, "/x/y");
	assert_int_equal(gfsb_ops_path_clean("/abcdef", out, 4), GFSB_EINVAL);
}

/* The hard-link map: many entries, collisions, growth. */
static void
test_linkmap(void **state)
{
	struct linkmap m = { NULL, 0, 0 };
	uintptr_t i;

	(void)state;
	assert_null(ops_linkmap_find(&m, 1, 1));
	for (i = 1; i <= 20000; i++)
		assert_int_equal(ops_linkmap_add(&m, i % 3, i * 4096,
		    (void *)i), GFSB_OK);
	for (i = 1; i <= 20000; i++)
		assert_true(ops_linkmap_find(&m, i % 3, i * 4096) ==
		    (void *)i);
	assert_null(ops_linkmap_find(&m, 1, 3 * 4096));
	assert_null(ops_linkmap_find(&m, 7, 4096));
	ops_linkmap_fini(&m);
}

static void
tz(const char *zone)
{
	setenv("TZ", zone, 1);
	tzset();
}

static void
night(struct gfsb_verify_night *n, int64_t day, uint64_t size, uint64_t add)
{
	memset(n, 0, sizeof(*n));
	n->day = day;
	n->repo_size = size;
	n->new_data = add;
}

/*
 * The chart's 30 nights end on the night given, never on the report's
 * time: the daily job puts the verification in before it sets that time
 * (and its report once had no figures at all).  Nights are local
 * midnights, one per calendar day across the change to summer time.
 */
static void
test_report_verify_nights(void **state)
{
	struct gfsb_verify_night nights[4];
	struct gfsb_verify_result res;
	struct gfsb_report rep;
	struct gfsb_time now;
	int64_t today;
	struct tm tm;
	time_t tt;
	size_t i;
	int known = 0;

	(void)state;
	tz("Europe/Berlin");
	/* 2026-03-29 is 23 hours long in Berlin. */
	assert_int_equal(gfsb_time_parse_local("2026-03-31 00:30:00", &now),
	    GFSB_OK);
	today = gfsb_ops_verify_day(&now);
	night(&nights[0], today - 30, 100, 1);	/* too old for the chart */
	night(&nights[1], today - 29, 200, 2);
	night(&nights[2], today - 2, 300, 3);	/* 03-29 */
	night(&nights[3], today, 400, 4);	/* no night 03-30 */
	memset(&res, 0, sizeof(res));
	res.nights = nights;
	res.nnights = 4;
	res.packs = 8;
	res.packs_read = 2;
	res.bytes_read = 1000;
	res.repo_bytes = 400;
	res.have_state = 1;
	res.days_since_all_read = 3;
	snprintf(res.mode, sizeof(res.mode), "rotate/7: today's slice is 6 "
	    "of 7");
	gfsb_report_init(&rep);	/* rep.now unset, as the daily job has it */
	assert_int_equal(gfsb_ops_report_verify(&rep, &res, &now), GFSB_OK);
	assert_int_equal(rep.now.sec, 0);
	for (i = 0; i < GFSB_REPORT_DAYS; i++) {
		tt = (time_t)rep.days[i].day.sec;
		assert_non_null(localtime_r(&tt, &tm));
		assert_int_equal(tm.tm_hour * 3600 + tm.tm_min * 60 +
		    tm.tm_sec, 0);
		assert_int_equal(gfsb_ops_verify_day(&rep.days[i].day),
		    today - (int64_t)(GFSB_REPORT_DAYS - 1 - i));
		if (rep.days[i].repo_size >= 0 || rep.days[i].new_data >= 0)
			known++;
	}
	assert_int_equal(known, 3);
	assert_int_equal(rep.days[0].repo_size, 200);
	assert_int_equal(rep.days[0].new_data, 2);
	assert_int_equal(rep.days[27].repo_size, 300);
	assert_int_equal(rep.days[27].new_data, 3);
	assert_int_equal(rep.days[28].repo_size, -1);
	assert_int_equal(rep.days[28].new_data, -1);
	assert_int_equal(rep.days[29].repo_size, 400);
	assert_int_equal(rep.days[29].new_data, 4);
	assert_true(rep.verify_ran);
	assert_int_equal(rep.packs_total, 8);
	assert_int_equal(rep.packs_read, 2);
	assert_int_equal(rep.bytes_read, 1000);
	assert_int_equal(rep.repo_size, 400);
	assert_int_equal(rep.days_since_all_read, 3);
	assert_string_equal(rep.read_mode, res.mode);
	assert_int_equal(rep.status, GFSB_REPORT_OK);
	assert_int_equal(rep.ndamage + rep.nwarnings + rep.nerrors, 0);
	gfsb_report_fini(&rep);
	/* Without a state file: coverage unknown, no figures. */
	res.have_state = 0;
	res.nnights = 0;
	gfsb_report_init(&rep);
	assert_int_equal(gfsb_ops_report_verify(&rep, &res, &now), GFSB_OK);
	assert_int_equal(rep.days_since_all_read, -1);
	for (i = 0; i < GFSB_REPORT_DAYS; i++)
		assert_int_equal(rep.days[i].repo_size, -1);
	gfsb_report_fini(&rep);
	tz("UTC");
}

/* Damage, broken files and warnings, prefixed; the stage row. */
static void
test_report_verify_problems(void **state)
{
	char why[] = "pack 3fa2c1d0e5: SHA-256 mismatch", path[] =
	    "/etc/passwd", bwhy[] = "blob 9f8e missing", w[] =
	    "2 stale locks", *warnings[1] = { w }, sum[128];
	struct gfsb_verify_damage dmg;
	struct gfsb_verify_broken br;
	struct gfsb_verify_result res;
	struct gfsb_report rep;

	(void)state;
	memset(&dmg, 0, sizeof(dmg));
	memset(&br, 0, sizeof(br));
	memset(&res, 0, sizeof(res));
	dmg.why = why;
	snprintf(br.snapshot, sizeof(br.snapshot), "1a2b3c4d5e6f");
	br.path = path;
	br.why = bwhy;
	res.damage = &dmg;
	res.ndamage = 1;
	res.broken = &br;
	res.nbroken = 1;
	res.broken_total = 5;
	res.warnings = warnings;
	res.nwarnings = 1;
	res.packs = 10;
	res.packs_read = 3;
	snprintf(res.mode, sizeof(res.mode), "all");
	assert_int_equal(gfsb_ops_report_verify_stage(&res, sum, sizeof(sum)),
	    GFSB_REPORT_FAILED);
	assert_string_equal(sum, "all; 3 of 10 packs read, DAMAGE FOUND");
	gfsb_report_init(&rep);
	assert_int_equal(gfsb_ops_report_verify_problems(&rep, &res,
	    "offsite: "), GFSB_OK);
	assert_int_equal(rep.ndamage, 3);
	assert_string_equal(rep.damage[0],
	    "offsite: pack 3fa2c1d0e5: SHA-256 mismatch");
	assert_string_equal(rep.damage[1],
	    "offsite: snapshot 1a2b3c4d /etc/passwd: blob 9f8e missing");
	assert_string_equal(rep.damage[2],
	    "offsite: ... and 4 more broken files");
	assert_int_equal(rep.nwarnings, 1);
	assert_string_equal(rep.warnings[0], "offsite: 2 stale locks");
	assert_int_equal(rep.status, GFSB_REPORT_FAILED);
	gfsb_report_fini(&rep);
	/* Clean: warnings make the row a WARNING, else it is OK. */
	res.ndamage = res.nbroken = 0;
	res.broken_total = 0;
	assert_int_equal(gfsb_ops_report_verify_stage(&res, sum, sizeof(sum)),
	    GFSB_REPORT_WARNING);
	assert_string_equal(sum, "all; 3 of 10 packs read, no damage");
	res.nwarnings = 0;
	assert_int_equal(gfsb_ops_report_verify_stage(&res, sum, sizeof(sum)),
	    GFSB_REPORT_OK);
}

/* ---- verify over a storage that fails ---- */

#define VPASS "verify pass"

static struct gfsb_repo *
vopen(struct gfsb_ctx *ctx, struct gfsb_backend *be)
{
	struct gfsb_repo *r;

	assert_int_equal(gfsb_repo_open(ctx, be, VPASS, strlen(VPASS), &r),
	    GFSB_OK);
	return r;
}

static gfsb_err
vrun(struct gfsb_ctx *ctx, struct gfsb_backend *be, enum gfsb_verify_read rd,
    struct gfsb_verify_result *res)
{
	struct gfsb_verify_opts vo;
	struct gfsb_repo *r = vopen(ctx, be);
	gfsb_err e;

	memset(&vo, 0, sizeof(vo));
	vo.read = rd;
	vo.threads = 1; /* packs in id order */
	e = gfsb_ops_verify(r, &vo, res);
	gfsb_repo_close(r);
	return e;
}

/* A new repository on be, with one backup of dir (pack_size 0: default). */
static struct gfsb_repo *
vinit_backup(struct gfsb_ctx *ctx, struct gfsb_backend *be, const char *dir,
    uint32_t pack_size)
{
	const char *paths[1] = { dir };
	struct gfsb_repo_params p;
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result bres;
	struct gfsb_repo *r;

	gfsb_repo_params_default(&p);
	p.kdf_ops = 1;
	p.kdf_mem = 8 << 20;
	if (pack_size != 0)
		p.pack_size = pack_size;
	assert_int_equal(gfsb_repo_init(ctx, be, VPASS, strlen(VPASS), &p, &r),
	    GFSB_OK);
	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	assert_int_equal(gfsb_ops_backup(r, &bo, &bres), GFSB_OK);
	return r;
}

static void
vflip(struct gfsb_backend *be, const char *name, size_t off)
{
	struct gfsb_buf b;

	gfsb_buf_init(&b);
	assert_int_equal(gfsb_backend_get(be, GFSB_OBJ_PACK, name, &b),
	    GFSB_OK);
	b.data[off] ^= 0x10;
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_PACK, name, b.data,
	    b.len), GFSB_OK);
	gfsb_buf_fini(&b);
}

/*
 * A pack read that fails is "could not be checked": the verification
 * stops with the storage's error, naming the object, even when a reader
 * found real damage before (whose detail must not stand in for it).
 */
static void
test_verify_storage_failure(void **state)
{
	char dir[] = "/tmp/gfsb-vfail-XXXXXX", path[64];
	struct gfsb_verify_result res;
	struct gfsb_pack_blobs *packs;
	struct gfsb_backend *be;
	struct gfsb_repo *r;
	struct gfsb_ctx *ctx;
	char data[2][GFSB_ID_HEX];
	uint32_t off = 0;
	size_t np, i, nd = 0;
	uint8_t *buf;
	FILE *fp;
	int k;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(buf = malloc(1 << 20));
	for (k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, k);
		gfsb_crypto_random(buf, 1 << 20);
		assert_non_null(fp = fopen(path, "w"));
		assert_int_equal(fwrite(buf, 1, 1 << 20, fp), 1 << 20);
		fclose(fp);
	}
	free(buf);
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_int_equal(gfsb_backend_mem_new(ctx, &be), GFSB_OK);
	gfsb_repo_close(vinit_backup(ctx, be, dir, 1 << 20));

	/* Two data packs, in the order the reader takes them. */
	r = vopen(ctx, be);
	assert_int_equal(gfsb_repo_index_load(r), GFSB_OK);
	assert_int_equal(gfsb_repo_index_packs(r, &packs, &np), GFSB_OK);
	for (i = 0; i < np && nd < 2; i++) {
		assert_null(packs[i].locs);
		assert_int_equal(gfsb_repo_pack_blobs_load(r, &packs[i]),
		    GFSB_OK);
		if (packs[i].locs[0].type != GFSB_BLOB_DATA)
			continue;
		if (nd == 0)
			off = packs[i].locs[0].offset + 40;
		gfsb_hex_encode(packs[i].id, GFSB_ID_LEN, data[nd++]);
	}
	assert_int_equal(nd, 2);
	gfsb_repo_index_packs_free(packs, np);
	gfsb_repo_close(r);
	assert_int_equal(vrun(ctx, be, GFSB_VERIFY_READ_ALL, &res), GFSB_OK);
	assert_int_equal(res.ndamage, 0);
	gfsb_ops_verify_result_fini(&res);

	/* Damage in the first, a failing storage for the second. */
	vflip(be, data[0], off);
	gfsb_backend_mem_fault(be, GFSB_OBJ_PACK, data[1], GFSB_ENET);
	assert_int_equal(vrun(ctx, be, GFSB_VERIFY_READ_ALL, &res), GFSB_ENET);
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx),
	    "not every pack could be checked"));
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx), data[1]));
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx), "injected failure"));
	assert_null(strstr(gfsb_ctx_errmsg(ctx), "damage"));
	gfsb_ctx_clearerr(ctx);
	/* The storage answers again: the damage is found, nothing else. */
	gfsb_backend_mem_fault(be, GFSB_OBJ_PACK, NULL, GFSB_OK);
	assert_int_equal(vrun(ctx, be, GFSB_VERIFY_READ_ALL, &res), GFSB_OK);
	assert_true(res.ndamage >= 1);
	for (i = 0; i < res.ndamage; i++)
		assert_null(strstr(res.damage[i].why, data[1]));
	gfsb_ops_verify_result_fini(&res);
	gfsb_ctx_clearerr(ctx);
	vflip(be, data[0], off);

	/* Trees that cannot be read: not "does not open", a failure. */
	gfsb_backend_mem_fault(be, GFSB_OBJ_PACK, NULL, GFSB_ENET);
	assert_int_equal(vrun(ctx, be, GFSB_VERIFY_READ_NONE, &res),
	    GFSB_ENET);
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx), "injected failure"));
	gfsb_ctx_clearerr(ctx);
	gfsb_backend_mem_fault(be, GFSB_OBJ_PACK, NULL, GFSB_OK);
	assert_int_equal(vrun(ctx, be, GFSB_VERIFY_READ_ALL, &res), GFSB_OK);
	assert_int_equal(res.ndamage, 0);
	gfsb_ops_verify_result_fini(&res);

	gfsb_backend_close(be);
	gfsb_ctx_free(ctx);
	for (k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, k);
		unlink(path);
	}
	rmdir(dir);
}

/* A small file's bytes. */
static size_t
slurp(const char *path, char *buf, size_t cap)
{
	FILE *fp;
	size_t n;

	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

/* Objects of every type the backend holds. */
static size_t
nobjects(struct gfsb_backend *be)
{
	struct gfsb_objlist l = { NULL, 0, 0 };
	uint64_t size;
	size_t n = 0;
	int t;

	for (t = GFSB_OBJ_KEY; t < GFSB_OBJ_NTYPES; t++) {
		assert_int_equal(gfsb_backend_list_all(be, (enum gfsb_obj)t,
		    &l), GFSB_OK);
		n += l.n;
		gfsb_objlist_fini(&l);
	}
	return n + (gfsb_backend_stat(be, GFSB_OBJ_CONFIG, "config", &size) ==
	    GFSB_OK);
}

/*
 * A repository on a read-only view of the past is read whole (verify,
 * restore, sync as a source) without a lock, even while the present one
 * is locked exclusively, and nothing is written to it; a state file, and
 * anything that would change it, are refused.
 */
static void
test_view_of_the_past(void **state)
{
	char dir[] = "/tmp/gfsb-view-XXXXXX", out[] = "/tmp/gfsb-viewr-XXXXXX";
	char path[96], back[128], statef[96];
	struct gfsb_verify_opts vo;
	struct gfsb_verify_result res;
	struct gfsb_restore_opts ro;
	struct gfsb_restore_result rres;
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pres;
	struct gfsb_sync_opts so;
	struct gfsb_sync_result sres;
	struct gfsb_backend *be, *dst;
	struct gfsb_repo *r, *v, *m;
	struct gfsb_lock *held;
	struct gfsb_ctx *ctx;
	char a[64], b[64];
	size_t before, na;
	FILE *fp;
	int k;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(out));
	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, k);
		assert_non_null(fp = fopen(path, "w"));
		fprintf(fp, "file %d of the past\n", k);
		fclose(fp);
	}
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_int_equal(gfsb_backend_mem_new(ctx, &be), GFSB_OK);
	r = vinit_backup(ctx, be, dir, 0);
	/* A prune of the present holds it exclusively. */
	assert_int_equal(gfsb_repo_lock(r, 1, &held), GFSB_OK);
	before = nobjects(be);
	assert_int_equal(gfsb_backend_mem_set_read_only(be, 1767229200),
	    GFSB_OK);
	assert_int_equal(gfsb_backend_as_of(be), 1767229200);
	v = vopen(ctx, be);

	memset(&vo, 0, sizeof(vo));
	vo.read = GFSB_VERIFY_READ_ALL;
	vo.threads = 1;
	snprintf(statef, sizeof(statef), "%s.state", out);
	vo.state_file = statef;
	assert_int_equal(gfsb_ops_verify(v, &vo, &res), GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx), "view of the past"));
	assert_int_equal(access(statef, F_OK), -1);
	gfsb_ctx_clearerr(ctx);
	vo.state_file = NULL;
	assert_int_equal(gfsb_ops_verify(v, &vo, &res), GFSB_OK);
	assert_int_equal(res.ndamage, 0);
	assert_int_equal(res.snapshots, 1);
	assert_true(res.packs_read > 0);
	assert_int_equal(res.locks_live + res.locks_stale, 0);
	gfsb_ops_verify_result_fini(&res);

	memset(&ro, 0, sizeof(ro));
	ro.snapshot = "latest";
	ro.target = out;
	ro.threads = 1;
	assert_int_equal(gfsb_ops_restore(v, &ro, &rres), GFSB_OK);
	assert_int_equal(rres.files, 2);
	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, k);
		snprintf(back, sizeof(back), "%s%s/f%d", out, dir, k);
		na = slurp(path, a, sizeof(a));
		assert_true(na > 0);
		assert_int_equal(slurp(back, b, sizeof(b)), na);
		assert_memory_equal(a, b, na);
		unlink(back);
	}

	/* Changing the past is refused before anything is done. */
	memset(&po, 0, sizeof(po));
	po.max_unused = 0.05;
	assert_int_equal(gfsb_ops_prune(v, &po, &pres), GFSB_EDENIED);
	assert_non_null(strstr(gfsb_ctx_errmsg(ctx), "read-only view"));
	gfsb_ctx_clearerr(ctx);

	/* As a sync's source: the mirror is a whole, writable repository. */
	assert_int_equal(gfsb_backend_mem_new(ctx, &dst), GFSB_OK);
	memset(&so, 0, sizeof(so));
	so.threads = 1;
	assert_int_equal(gfsb_ops_sync(v, dst, &so, &sres), GFSB_OK);
	assert_true(sres.initialized);
	assert_int_equal(sres.failed, 0);
	assert_int_equal(gfsb_backend_as_of(dst), 0);
	m = vopen(ctx, dst);
	assert_int_equal(gfsb_ops_verify(m, &vo, &res), GFSB_OK);
	assert_int_equal(res.ndamage, 0);
	assert_int_equal(res.snapshots, 1);
	gfsb_ops_verify_result_fini(&res);
	gfsb_repo_close(m);
	gfsb_backend_close(dst);

	/* Nothing was written: the present's lock is all there is. */
	assert_int_equal(nobjects(be), before);
	gfsb_repo_close(v);
	assert_int_equal(gfsb_backend_mem_set_read_only(be, 0), GFSB_OK);
	gfsb_repo_unlock(held);
	assert_int_equal(nobjects(be), before - 1);
	gfsb_repo_close(r);
	gfsb_backend_close(be);
	gfsb_ctx_free(ctx);
	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, k);
		unlink(path);
	}
	snprintf(back, sizeof(back), "%s/tmp", out);
	snprintf(path, sizeof(path), "%s%s", out, dir);
	rmdir(path);
	rmdir(back);
	rmdir(out);
	rmdir(dir);
}

/* ---- the offsite bucket's policy ---- */

#define SRV "arn:aws:iam::123456789012:user/web1-backup"
#define VER "arn:aws:iam::123456789012:role/backup-verifier"

static gfsb_err
bp(struct gfsb_ctx *ctx, const char *url, const char *srv, const char *ver,
    unsigned days, struct gfsb_bucket_policy *out)
{
	struct gfsb_bucket_policy_opts o = { url, srv, ver, days };

	gfsb_ctx_clearerr(ctx);
	return gfsb_ops_bucket_policy(ctx, &o, out);
}

/* The statement named sid, or NULL. */
static json_t *
stmt(json_t *pol, const char *sid)
{
	json_t *st;
	size_t i;

	json_array_foreach(json_object_get(pol, "Statement"), i, st)
		if (strcmp(json_string_value(json_object_get(st, "Sid")),
		    sid) == 0)
			return st;
	return NULL;
}

/* Does the array a hold the string s? */
static int
has(json_t *a, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static void
test_bucket_policy(void **state)
{
	static const char *const history[] = { "s3:DeleteObjectVersion",
		"s3:BypassGovernanceRetention", "s3:PutBucketVersioning",
		"s3:PutLifecycleConfiguration", "s3:PutBucketPolicy",
		"s3:DeleteBucketPolicy", "s3:PutBucketObjectLockConfiguration",
		"s3:PutObjectLegalHold", NULL };
	struct gfsb_bucket_policy a, b;
	struct gfsb_ctx *ctx;
	json_t *pol, *st, *lc, *rule;
	const char *const *h;
	json_error_t err;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_int_equal(bp(ctx, "s3://acme-offsite/hosts/web1/", SRV, VER, 0,
	    &a), GFSB_OK);
	pol = json_loads(a.policy, JSON_REJECT_DUPLICATES, &err);
	assert_non_null(pol);
	assert_string_equal(json_string_value(json_object_get(pol,
	    "Version")), "2012-10-17");
	/* Writes only under the prefix (the trailing slash is dropped). */
	st = stmt(pol, "ServerWriteObjects");
	assert_non_null(st);
	assert_true(has(json_object_get(st, "Resource"),
	    "arn:aws:s3:::acme-offsite/hosts/web1/*"));
	assert_int_equal(json_array_size(json_object_get(st, "Resource")), 1);
	assert_true(has(json_object_get(st, "Action"), "s3:PutObject"));
	assert_true(has(json_object_get(st, "Action"),
	    "s3:PutObjectRetention"));
	assert_false(has(json_object_get(json_object_get(st, "Principal"),
	    "AWS"), VER));
	/* Listings only of keys under the prefix. */
	st = stmt(pol, "ListPrefix");
	assert_non_null(st);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(json_object_get(st, "Condition"),
	    "StringLikeIfExists"), "s3:prefix"), 0)), "hosts/web1/*");
	/* History is denied to both, and allowed to neither. */
	st = stmt(pol, "DenyRewritingHistory");
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "Effect")),
	    "Deny");
	assert_true(has(json_object_get(json_object_get(st, "Principal"),
	    "AWS"), SRV));
	assert_true(has(json_object_get(json_object_get(st, "Principal"),
	    "AWS"), VER));
	for (h = history; *h != NULL; h++) {
		size_t i;
		json_t *s2;

		assert_true(has(json_object_get(st, "Action"), *h));
		json_array_foreach(json_object_get(pol, "Statement"), i, s2)
			if (strcmp(json_string_value(json_object_get(s2,
			    "Effect")), "Allow") == 0)
				assert_false(has(json_object_get(s2, "Action"),
				    *h));
	}
	/* The verifier may not write. */
	st = stmt(pol, "VerifierReadOnly");
	assert_non_null(st);
	assert_true(has(json_object_get(st, "Action"), "s3:PutObject"));
	assert_true(has(json_object_get(st, "Action"), "s3:DeleteObject"));
	json_decref(pol);
	/* The lifecycle rule: the prefix, 30 days, no count of versions. */
	lc = json_loads(a.lifecycle, 0, &err);
	assert_non_null(lc);
	rule = json_array_get(json_object_get(lc, "Rules"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    rule, "Filter"), "Prefix")), "hosts/web1/");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    rule, "NoncurrentVersionExpiration"), "NoncurrentDays")),
	    GFSB_BUCKET_NONCURRENT_DAYS);
	assert_null(json_object_get(json_object_get(rule,
	    "NoncurrentVersionExpiration"), "NewerNoncurrentVersions"));
	json_decref(lc);
	assert_non_null(strstr(a.guide, "aws s3api put-bucket-policy "
	    "--bucket acme-offsite --policy file://policy.json\n"));
	assert_non_null(strstr(a.guide, "aws iam create-user --user-name "
	    "web1-backup\n"));
	assert_non_null(strstr(a.guide, a.lifecycle));
	/* The same options give the same bytes. */
	assert_int_equal(bp(ctx, "s3://acme-offsite/hosts/web1", SRV, VER, 0,
	    &b), GFSB_OK);
	assert_string_equal(a.policy, b.policy);
	assert_string_equal(a.guide, b.guide);
	gfsb_ops_bucket_policy_fini(&a);
	gfsb_ops_bucket_policy_fini(&b);
	gfsb_ops_bucket_policy_fini(NULL);

	/* The whole bucket, no verifier: no condition, nobody else. */
	assert_int_equal(bp(ctx, "s3://acme-offsite", "arn:aws:iam:::user/srv",
	    NULL, 90, &a), GFSB_OK);
	pol = json_loads(a.policy, 0, &err);
	assert_non_null(pol);
	assert_null(json_object_get(stmt(pol, "ListPrefix"), "Condition"));
	assert_true(has(json_object_get(stmt(pol, "ServerWriteObjects"),
	    "Resource"), "arn:aws:s3:::acme-offsite/*"));
	assert_null(stmt(pol, "VerifierReadOnly"));
	json_decref(pol);
	assert_null(strstr(a.policy, "verifier"));
	assert_non_null(strstr(a.lifecycle, "\"NoncurrentDays\": 90"));
	assert_non_null(strstr(a.guide, "radosgw-admin user create --uid=srv "
	    "--display-name='gfsbackup server'\n"));
	gfsb_ops_bucket_policy_fini(&a);
	gfsb_ctx_free(ctx);
}

static void
test_bucket_policy_bad(void **state)
{
	static const struct {
		const char *url, *srv, *ver, *msg;
		unsigned days;
	} bad[] = {
		{ "/srv/backup", SRV, NULL, "is not an S3 URL", 0 },
		{ "s3://A/x", SRV, NULL, "malformed S3 URL", 0 },
		{ "s3://acme/a/../b", SRV, NULL, "malformed S3 URL", 0 },
		{ "s3://acme/web*", SRV, NULL, "wildcards", 0 },
		{ "s3://acme/w?b", SRV, NULL, "wildcards", 0 },
		{ "s3://acme/${aws:username}", SRV, NULL, "wildcards", 0 },
		{ NULL, SRV, NULL, "no bucket", 0 },
		{ "s3://acme/web1", NULL, NULL, "no server principal", 0 },
		{ "s3://acme/web1", "", NULL, "is not the ARN", 0 },
		{ "s3://acme/web1", "web1", NULL, "is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:iam::1:root", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:iam::1:user/", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:iam::1:user/a*", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:iam::1:user/a\"b", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:iam::1:user/a b", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:iam::1:group/ops", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:s3:::acme", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:iam:eu-west-1:1:user/a", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:sts::1:user/a", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "arn::iam::1:user/a", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "ARN:aws:iam::1:user/a", NULL,
		    "is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:iam::1:user/a", "x",
		    "verifier principal \"x\" is not the ARN", 0 },
		{ "s3://acme/web1", "arn:aws:iam::1:user/a",
		    "arn:aws:iam::1:user/a", "must not be the server", 0 },
		{ "s3://acme/web1", SRV, NULL, "at most",
		    GFSB_BUCKET_NONCURRENT_DAYS_MAX + 1 },
	};
	struct gfsb_bucket_policy out = { NULL, NULL, NULL };
	struct gfsb_ctx *ctx;
	size_t i;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(bp(ctx, bad[i].url, bad[i].srv, bad[i].ver,
		    bad[i].days, &out), GFSB_EINVAL);
		if (strstr(gfsb_ctx_errmsg(ctx), bad[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
			    gfsb_ctx_errmsg(ctx), bad[i].msg);
		assert_null(strchr(gfsb_ctx_errmsg(ctx), '\n'));
		assert_null(out.policy);
	}
	/* What is allowed: a role, an assumed role, a Ceph tenant. */
	assert_int_equal(bp(ctx, "s3://acme/web1",
	    "arn:aws:sts::123456789012:assumed-role/backup/web1", NULL, 0,
	    &out), GFSB_OK);
	gfsb_ops_bucket_policy_fini(&out);
	assert_int_equal(bp(ctx, "s3://acme/web1",
	    "arn:aws-cn:iam::123456789012:role/path/backup", NULL, 0, &out),
	    GFSB_OK);
	gfsb_ops_bucket_policy_fini(&out);
	assert_int_equal(bp(ctx, "s3://acme/web1", "arn:aws:iam::acme:user/s",
	    NULL, 0, &out), GFSB_OK);
	assert_non_null(strstr(out.guide, "--uid=s --tenant=acme "));
	gfsb_ops_bucket_policy_fini(&out);
	gfsb_ctx_free(ctx);
}

/* Where the thread is now, relative to root (the test's directory). */
static void
assert_in(const char *root, const char *rel)
{
	char cwd[PATH_MAX], want[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s%s%s", root, *rel ? "/" : "", rel);
	assert_string_equal(cwd, want);
}

/* "g/g/.../g/leaf", n levels of g. */
static void
deep_path(char *out, size_t cap, int n, const char *leaf)
{
	size_t k = 0;
	int i;

	for (i = 0; i < n; i++)
		k += (size_t)snprintf(out + k, cap - k, "g/");
	snprintf(out + k, cap - k, "%s", leaf);
}

/* Make root/g/g/... n levels deep, and a "w" beside the deepest g. */
static void
deep_dirs(const char *root, int n)
{
	char p[PATH_MAX];
	int i;

	snprintf(p, sizeof(p), "%s", root);
	for (i = 0; i < n; i++) {
		strncat(p, "/g", sizeof(p) - strlen(p) - 1);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	p[strlen(p) - 2] = '\0';
	strncat(p, "/w", sizeof(p) - strlen(p) - 1);
	assert_int_equal(mkdir(p, 0700), 0);
}

static void
test_restore_cwd(void **state)
{
	char tmpl[] = "/tmp/gfsb-cwd.XXXXXX", root[PATH_MAX], cmd[PATH_MAX + 16];
	char moved[PATH_MAX + 16];
	struct rs_cwd c;
	int back;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, root));
	assert_true((back = open(".", O_RDONLY | O_DIRECTORY)) >= 0);
	assert_int_equal(chdir(root), 0);
	assert_int_equal(mkdir("a", 0700) | mkdir("a/b", 0700) |
	    mkdir("a/b/c", 0700) | mkdir("x", 0700) | symlink("a/b", "l") |
	    symlink("/", "a/root"), 0);

	rs_cwd_init(&c);
	assert_true(c.own); /* Linux: unshare(CLONE_FS) */
	/* Into a file's directory; the same again; deeper from there. */
	assert_string_equal(rs_cwd_enter(&c, "a/b/f"), "f");
	assert_in(root, "a/b");
	assert_string_equal(rs_cwd_enter(&c, "a/b/g"), "g");
	assert_string_equal(rs_cwd_enter(&c, "a/b/c/h"), "h");
	assert_in(root, "a/b/c");
	/* "a/bc" is not below "a/b". */
	assert_string_equal(rs_cwd_enter(&c, "x/i"), "i");
	assert_in(root, "x");
	assert_string_equal(rs_cwd_enter(&c, "top"), "top");
	assert_in(root, "");
	/* A symlink, "..", a missing or over-long component: the whole
	 * path from the target, where libarchive's own checks refuse it. */
	assert_string_equal(rs_cwd_enter(&c, "l/c/j"), "l/c/j");
	assert_in(root, "");
	assert_string_equal(rs_cwd_enter(&c, "a/b/f"), "f");
	assert_string_equal(rs_cwd_enter(&c, "a/root/etc/k"), "a/root/etc/k");
	assert_in(root, "");
	assert_string_equal(rs_cwd_enter(&c, "a/../x/m"), "a/../x/m");
	assert_string_equal(rs_cwd_enter(&c, "a/nope/n"), "a/nope/n");
	assert_in(root, "");
	assert_string_equal(rs_cwd_enter(&c, "a//o"), "o"); /* a/o */
	assert_in(root, "a");
	/* A directory swapped for a symlink once entered: the thread stays
	 * in the directory it reached, wherever it has gone (the test is
	 * in the thread: paths from here on are absolute). */
	assert_string_equal(rs_cwd_enter(&c, "a/b/p"), "p");
	snprintf(cmd, sizeof(cmd), "%s/a/b", root);
	snprintf(moved, sizeof(moved), "%s/a/moved", root);
	assert_int_equal(rename(cmd, moved) | symlink("../x", cmd), 0);
	assert_string_equal(rs_cwd_enter(&c, "a/b/q"), "q");
	assert_in(root, "a/moved");
	/* ... and a fresh walk refuses the symlink. */
	assert_string_equal(rs_cwd_enter(&c, "top"), "top");
	assert_string_equal(rs_cwd_enter(&c, "a/b/r"), "a/b/r");
	assert_in(root, "");
	/* A sibling is reached from the directories held on the way down:
	 * "d", moved away meanwhile, is still the one the walk reached. */
	assert_int_equal(mkdir("d", 0700) | mkdir("d/e", 0700) |
	    mkdir("d/e/f", 0700) | mkdir("d/y", 0700), 0);
	assert_string_equal(rs_cwd_enter(&c, "d/e/f/s"), "s");
	snprintf(cmd, sizeof(cmd), "%s/d", root);
	snprintf(moved, sizeof(moved), "%s/d2", root);
	assert_int_equal(rename(cmd, moved), 0);
	assert_string_equal(rs_cwd_enter(&c, "d/y/t"), "t");
	assert_in(root, "d2/y");
	assert_string_equal(rs_cwd_enter(&c, "d/e/u"), "u");
	assert_in(root, "d2/e");
	rs_cwd_fini(&c);
	/* Deeper than the directories held (CWD_KEEP): still reached, and
	 * a sibling down there too. */
	assert_int_equal(chdir(root), 0);
	rs_cwd_init(&c);
	deep_dirs(root, CWD_KEEP + 6);
	deep_path(cmd, sizeof(cmd), CWD_KEEP + 6, "v");
	assert_string_equal(rs_cwd_enter(&c, cmd), "v");
	deep_path(moved, sizeof(moved), CWD_KEEP + 5, "w/x");
	assert_string_equal(rs_cwd_enter(&c, moved), "x");
	deep_path(cmd, sizeof(cmd), CWD_KEEP + 5, "w");
	assert_in(root, cmd);
	assert_int_equal(c.depth, CWD_KEEP);
	rs_cwd_fini(&c);

	assert_int_equal(fchdir(back), 0);
	close(back);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unanchored),
		cmocka_unit_test(test_anchored_and_globstar),
		cmocka_unit_test(test_bad_patterns),
		cmocka_unit_test(test_pattern_file),
		cmocka_unit_test(test_list_gather),
		cmocka_unit_test(test_path_clean),
		cmocka_unit_test(test_linkmap),
		cmocka_unit_test(test_report_verify_nights),
		cmocka_unit_test(test_report_verify_problems),
		cmocka_unit_test(test_verify_storage_failure),
		cmocka_unit_test(test_view_of_the_past),
		cmocka_unit_test(test_bucket_policy),
		cmocka_unit_test(test_bucket_policy_bad),
		cmocka_unit_test(test_restore_cwd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
