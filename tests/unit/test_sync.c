/*
 * sync to a mirror locked with S3 Object Lock, night after night, on the
 * in-memory backend (which emulates a lock bucket with its own clock and
 * refuses to delete a locked object, as S3 refuses to delete a locked
 * version): every object lands with the date the GFS policy needs, the
 * nights' promotions extend what they must, what the source deletes
 * waits on its lock and goes once the lock has passed, and the ledger
 * keeps the requests down.  The dates are checked against an independent
 * computation: the policy's own decisions and a walk of each snapshot's
 * trees written here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/util.h>

#include "fixture.h"
#include "repo/repo_internal.h"

#define PASS "sync pass"
#define MARGIN (2 * 86400)

struct fx {
	struct gfsb_ctx *ctx;
	struct gfsb_backend *src_be, *dst_be;
	struct gfsb_repo *src;
	struct gfsb_policy *policy;
	char dir[64];	 /* the source tree */
	char ledger[96]; /* the lock ledger */
};

static void
write_file(const char *dir, const char *name, size_t n)
{
	char path[256];
	uint8_t *b;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(b = malloc(n));
	gfsb_crypto_random(b, n);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
	free(b);
}

static int
setup(void **state)
{
	struct gfsb_repo_params p;
	struct fx *f = calloc(1, sizeof(*f));

	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	gfsb_repo_params_default(&p);
	p.kdf_ops = 1;
	p.kdf_mem = 8 << 20;
	p.pack_size = 1 << 20;
	p.chunk.min = 1024;
	p.chunk.avg = 4096;
	p.chunk.max = 16384;
	if (f == NULL || gfsb_ctx_new(&f->ctx) != GFSB_OK ||
	    gfsb_backend_mem_new(f->ctx, &f->src_be) != GFSB_OK ||
	    gfsb_backend_mem_new(f->ctx, &f->dst_be) != GFSB_OK ||
	    gfsb_repo_init(f->ctx, f->src_be, PASS, strlen(PASS), &p,
	    &f->src) != GFSB_OK)
		return -1;
	gfsb_backend_mem_set_lock(f->dst_be, 1);
	snprintf(f->dir, sizeof(f->dir), "/tmp/gfsb-sync-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->ledger, sizeof(f->ledger), "%s.ledger", f->dir);
	if (gfsb_gfs_policy_new(&f->policy) != GFSB_OK ||
	    gfsb_gfs_policy_set(f->ctx, f->policy, "keep-daily", "7", "t") !=
	    GFSB_OK ||
	    gfsb_gfs_policy_set(f->ctx, f->policy, "keep-weekly", "4", "t") !=
	    GFSB_OK ||
	    gfsb_gfs_policy_set(f->ctx, f->policy, "keep-monthly", "3", "t") !=
	    GFSB_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", f->dir, f->ledger);
	if (system(cmd) != 0)
		return -1;
	gfsb_gfs_policy_free(f->policy);
	gfsb_repo_close(f->src);
	gfsb_backend_close(f->src_be);
	gfsb_backend_close(f->dst_be);
	gfsb_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* Local midnight of day `day` of 2027 (Jan 1 = 0), plus hours. */
static int64_t
at(int day, int hour)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 127;
	tm.tm_mday = 1 + day;
	tm.tm_hour = hour;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* ---- an independent computation of what each object needs ---- */

struct need {
	char name[GFSB_ID_HEX];
	int64_t until;
};

struct needs {
	struct need *v;
	size_t n, cap;
};

static void
need_raise(struct needs *ns, const char *name, int64_t until)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i].name, name) == 0) {
			if (until > ns->v[i].until)
				ns->v[i].until = until;
			return;
		}
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 64;
		assert_non_null(ns->v = realloc(ns->v, ns->cap *
		    sizeof(*ns->v)));
	}
	snprintf(ns->v[ns->n].name, GFSB_ID_HEX, "%s", name);
	ns->v[ns->n++].until = until;
}

static int64_t
need_of(const struct needs *ns, const char *name)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i].name, name) == 0)
			return ns->v[i].until;
	return 0;
}

/* Every pack a tree reaches gets until (recursively: small trees). */
static void
walk(struct gfsb_repo *r, struct gfsb_repo_io *io, const uint8_t *tree,
    int64_t until, struct needs *packs)
{
	struct gfsb_blob_loc loc;
	struct gfsb_tree t;
	char hex[GFSB_ID_HEX];
	size_t i, k;

	assert_int_equal(gfsb_repo_index_lookup(r, GFSB_BLOB_TREE, tree, &loc),
	    GFSB_OK);
	gfsb_hex_encode(loc.pack, GFSB_ID_LEN, hex);
	need_raise(packs, hex, until);
	gfsb_repo_tree_init(&t);
	assert_int_equal(gfsb_repo_tree_load(io, tree, &t), GFSB_OK);
	for (i = 0; i < t.n; i++) {
		if (t.nodes[i].kind == GFSB_NODE_DIR) {
			walk(r, io, t.nodes[i].subtree, until, packs);
			continue;
		}
		for (k = 0; k < t.nodes[i].nextents; k++) {
			if (t.nodes[i].extents[k].hole)
				continue;
			assert_int_equal(gfsb_repo_index_lookup(r,
			    GFSB_BLOB_DATA, t.nodes[i].extents[k].id, &loc),
			    GFSB_OK);
			gfsb_hex_encode(loc.pack, GFSB_ID_LEN, hex);
			need_raise(packs, hex, until);
		}
	}
	gfsb_repo_tree_fini(&t);
}

/* The dates the source's snapshots and their packs need tonight. */
static void
compute_needs(struct fx *f, int64_t now_sec, struct needs *snaps,
    struct needs *packs)
{
	struct gfsb_snapshot **list;
	struct gfsb_gfs_item *items;
	struct gfsb_gfs_decision *dec;
	struct gfsb_repo_io *io;
	struct gfsb_time now = { now_sec, 0 };
	struct gfsb_repo *r;
	int64_t *until;
	size_t n, i;

	/* A fresh handle: the index as stored now. */
	assert_int_equal(gfsb_repo_open(f->ctx, f->src_be, PASS, strlen(PASS),
	    &r), GFSB_OK);
	assert_int_equal(gfsb_repo_index_load(r), GFSB_OK);
	assert_int_equal(gfsb_repo_snapshot_list(r, &list, &n), GFSB_OK);
	assert_non_null(items = calloc(n + 1, sizeof(*items)));
	assert_non_null(dec = calloc(n + 1, sizeof(*dec)));
	assert_non_null(until = calloc(n + 1, sizeof(*until)));
	for (i = 0; i < n; i++)
		items[i].time = list[i]->time;
	assert_int_equal(gfsb_gfs_apply(f->policy, items, n, &now, dec),
	    GFSB_OK);
	assert_int_equal(gfsb_gfs_lock_dates(f->policy, items, n, dec, &now,
	    MARGIN, until), GFSB_OK);
	assert_int_equal(gfsb_repo_io_new(r, &io), GFSB_OK);
	for (i = 0; i < n; i++) {
		if (until[i] == 0)
			continue;
		need_raise(snaps, list[i]->id, until[i]);
		walk(r, io, list[i]->tree, until[i], packs);
	}
	gfsb_repo_io_free(io);
	free(items);
	free(dec);
	free(until);
	gfsb_repo_snapshot_list_free(list, n);
	gfsb_repo_close(r);
}

static int64_t
retention(struct fx *f, enum gfsb_obj type, const char *name)
{
	struct gfsb_retention ret;

	assert_int_equal(gfsb_backend_retention_get(f->dst_be, type, name,
	    &ret), GFSB_OK);
	return ret.mode == GFSB_LOCK_NONE ? 0 : ret.until;
}

/* Sync src's repository to be at day's 02:00 under f's policy. */
static gfsb_err
sync_at(struct fx *f, struct gfsb_repo *src, struct gfsb_backend *be,
    int day, enum gfsb_lock_mode mode, struct gfsb_sync_result *sr)
{
	struct gfsb_sync_opts so;
	struct gfsb_lock_opts lo;

	gfsb_backend_mem_set_time(be, at(day, 2));
	memset(&lo, 0, sizeof(lo));
	lo.policy = f->policy;
	lo.now.sec = at(day, 2);
	lo.margin = MARGIN;
	lo.ledger = f->ledger;
	memset(&so, 0, sizeof(so));
	so.threads = 2;
	so.object_lock = mode;
	so.locks = &lo;
	return gfsb_ops_sync(src, be, &so, sr);
}

/*
 * The mirror, opened with the source's full key and read whole: no
 * damage, no snapshot broken.  How many snapshots it holds.
 */
static size_t
mirror_clean(struct fx *f)
{
	struct gfsb_verify_opts vo;
	struct gfsb_verify_result vr;
	struct gfsb_repo *m;
	size_t n;

	assert_int_equal(gfsb_repo_open_mirror(f->src, f->dst_be, &m),
	    GFSB_OK);
	memset(&vo, 0, sizeof(vo));
	vo.read = GFSB_VERIFY_READ_ALL;
	vo.no_lock = 1;
	assert_int_equal(gfsb_ops_verify(m, &vo, &vr), GFSB_OK);
	assert_int_equal(vr.ndamage, 0);
	assert_int_equal(vr.broken_total, 0);
	n = vr.snapshots;
	gfsb_ops_verify_result_fini(&vr);
	gfsb_repo_close(m);
	return n;
}

/* Back up f->dir into r at day's 01:00. */
static void
backup_at(struct fx *f, struct gfsb_repo *r, int day)
{
	const char *paths[1] = { f->dir };
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result br;

	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.has_time = 1;
	bo.time.sec = at(day, 1);
	bo.threads = 1;
	assert_int_equal(gfsb_ops_backup(r, &bo, &br), GFSB_OK);
}

/* One night: files change, backup, forget, prune, then sync at 02:00. */
static void
night(struct fx *f, int day, struct gfsb_sync_result *sr)
{
	struct gfsb_forget_opts fo;
	struct gfsb_forget_result fr;
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pr;
	char name[32], path[256];

	/* A new file a night; each lives three nights. */
	snprintf(name, sizeof(name), "day%03d", day);
	write_file(f->dir, name, 3000);
	snprintf(path, sizeof(path), "%s/day%03d", f->dir, day - 3);
	unlink(path);
	backup_at(f, f->src, day);
	memset(&fo, 0, sizeof(fo));
	fo.policy = f->policy;
	fo.group_by = GFSB_GROUP_HOST | GFSB_GROUP_PATHS;
	fo.has_now = 1;
	fo.now.sec = at(day, 1) + 1800;
	assert_int_equal(gfsb_ops_forget(f->src, &fo, &fr), GFSB_OK);
	gfsb_ops_forget_fini(&fr);
	memset(&po, 0, sizeof(po));
	po.max_unused = 0.05;
	assert_int_equal(gfsb_ops_prune(f->src, &po, &pr), GFSB_OK);
	/* The mem backend refuses to delete what is locked: a sync that
	 * tried would fail here. */
	assert_int_equal(sync_at(f, f->src, f->dst_be, day,
	    GFSB_LOCK_COMPLIANCE, sr), GFSB_OK);
	assert_int_equal(sr->locked, GFSB_LOCK_COMPLIANCE);
}

/*
 * 120 nights (four month ends, both DST changes of 2027 in Berlin):
 * after each sync, every snapshot and pack the policy keeps is locked at
 * least until what it needs, and not more than a son window beyond; what
 * only the mirror still holds is held by a lock that has not passed;
 * and the mirror verifies clean.
 */
static void
test_locked_mirror_nights(void **state)
{
	struct fx *f = *state;
	struct gfsb_sync_result sr;
	struct gfsb_objlist l;
	struct needs snaps, packs;
	uint64_t requests = 0, copied = 0, waited = 0, deleted = 0;
	uint64_t grouped = 0;
	int64_t clock, have, need;
	size_t i;
	int day, ndays = 120, promoted = 0;

	write_file(f->dir, "shared", 40000);
	for (day = 0; day < ndays; day++) {
		night(f, day, &sr);
		requests += sr.locks.requests;
		copied += sr.copied;
		waited += sr.locks.waiting;
		deleted += sr.deleted;
		clock = at(day, 2);
		memset(&snaps, 0, sizeof(snaps));
		memset(&packs, 0, sizeof(packs));
		compute_needs(f, clock, &snaps, &packs);
		/* Snapshots: what they need, at most a son window more. */
		assert_int_equal(gfsb_backend_list_all(f->dst_be,
		    GFSB_OBJ_SNAPSHOT, &l), GFSB_OK);
		for (i = 0; i < l.n; i++) {
			have = retention(f, GFSB_OBJ_SNAPSHOT, l.v[i].name);
			need = need_of(&snaps, l.v[i].name);
			if (need == 0) {
				/* Dropped by the source: only its lock keeps
				 * it, and that lock holds. */
				if (have <= clock)
					fail_msg("night %d: snapshot %.8s kept "
					    "though its lock (%lld) has passed",
					    day, l.v[i].name, (long long)have);
				continue;
			}
			if (have < need)
				fail_msg("night %d: snapshot %.8s locked until "
				    "%lld, needs %lld", day, l.v[i].name,
				    (long long)have, (long long)need);
			assert_true(have <= need + 9 * 86400);
			if (need - clock > 25 * 86400)
				promoted++;
		}
		gfsb_objlist_fini(&l);
		/* Packs: the latest need of the snapshots that use them. */
		assert_int_equal(gfsb_backend_list_all(f->dst_be, GFSB_OBJ_PACK,
		    &l), GFSB_OK);
		for (i = 0; i < l.n; i++) {
			uint64_t size;

			have = retention(f, GFSB_OBJ_PACK, l.v[i].name);
			need = need_of(&packs, l.v[i].name);
			if (need == 0) {
				/* Unused: the source keeps it yet (prune
				 * keeps packs little unused), its lock holds
				 * it here, or it waits for the others its
				 * mirror-only index file names (that group
				 * goes as one, checked at the end). */
				if (gfsb_backend_stat(f->src_be, GFSB_OBJ_PACK,
				    l.v[i].name, &size) != GFSB_OK &&
				    have <= clock)
					grouped++;
				gfsb_ctx_clearerr(f->ctx);
				continue;
			}
			if (have < need)
				fail_msg("night %d: pack %.8s locked until "
				    "%lld, needs %lld", day, l.v[i].name,
				    (long long)have, (long long)need);
		}
		gfsb_objlist_fini(&l);
		/* Keys and config: the longest the policy asks. */
		assert_true(retention(f, GFSB_OBJ_CONFIG, "config") >=
		    gfsb_gfs_lock_longest(f->policy, &(struct gfsb_time){
		    clock, 0 }, MARGIN));
		free(snaps.v);
		free(packs.v);
	}
	/* Once every lock has passed, a sync leaves only what the source
	 * has: nothing is kept longer than its lock (and its group's). */
	gfsb_backend_mem_set_time(f->dst_be, at(ndays + 120, 2));
	{
		struct gfsb_sync_opts so;
		struct gfsb_lock_opts lo;
		struct gfsb_objlist sl2, dl2;
		int t;
		static const enum gfsb_obj types[] = { GFSB_OBJ_PACK,
			GFSB_OBJ_INDEX, GFSB_OBJ_SNAPSHOT };

		memset(&lo, 0, sizeof(lo));
		lo.policy = f->policy;
		lo.now.sec = at(ndays + 120, 2);
		lo.margin = MARGIN;
		lo.ledger = f->ledger;
		memset(&so, 0, sizeof(so));
		so.locks = &lo;
		/* One run: the mirror's own index files go, then their
		 * packs. */
		assert_int_equal(gfsb_ops_sync(f->src, f->dst_be, &so, &sr),
		    GFSB_OK);
		for (t = 0; t < 3; t++) {
			assert_int_equal(gfsb_backend_list_all(f->src_be,
			    types[t], &sl2), GFSB_OK);
			assert_int_equal(gfsb_backend_list_all(f->dst_be,
			    types[t], &dl2), GFSB_OK);
			for (i = 0; i < dl2.n; i++)
				if (gfsb_objlist_find(&sl2, dl2.v[i].name) ==
				    NULL)
					fail_msg("%s/%.8s outlived every lock",
					    gfsb_backend_type_name(types[t]),
					    dl2.v[i].name);
			gfsb_objlist_fini(&sl2);
			gfsb_objlist_fini(&dl2);
		}
	}
	/* The mirror is whole: every snapshot it lists restores. */
	(void)mirror_clean(f);
	/* Monthly and weekly roles were promoted; what the source deleted
	 * waited on its lock, then went. */
	assert_true(promoted > 0);
	assert_true(waited > 0);
	assert_true(deleted > 0);
	/* The ledger: about a request per object copied, not per object
	 * held, every night. */
	print_message("%d nights: %llu objects copied, %llu lock requests, "
	    "%llu deleted, %llu pack-nights kept with their index group\n",
	    ndays, (unsigned long long)copied, (unsigned long long)requests,
	    (unsigned long long)deleted, (unsigned long long)grouped);
	assert_true(requests < 3 * copied);
}

/* A mirror locked in one mode cannot be synced as another, and an
 * unlocked bucket cannot take a locked mirror; no repository is its own
 * mirror: refused, nothing written. */
static void
test_lock_mode_refusals(void **state)
{
	struct fx *f = *state;
	struct gfsb_sync_result sr;
	struct gfsb_sync_opts so;
	struct gfsb_backend *plain;
	struct gfsb_objlist l;

	memset(&so, 0, sizeof(so));
	/* Never onto itself. */
	assert_int_equal(gfsb_ops_sync(f->src, gfsb_repo_backend(f->src), &so,
	    &sr), GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), "repository itself"));
	assert_int_equal(sr.copied + sr.deleted, 0);
	gfsb_ctx_clearerr(f->ctx);
	so.object_lock = GFSB_LOCK_COMPLIANCE;
	assert_int_equal(gfsb_backend_mem_new(f->ctx, &plain), GFSB_OK);
	assert_int_equal(gfsb_ops_sync(f->src, plain, &so, &sr), GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), "Object Lock"));
	gfsb_ctx_clearerr(f->ctx);
	assert_int_equal(gfsb_backend_list_all(plain, GFSB_OBJ_KEY, &l),
	    GFSB_OK);
	assert_int_equal(l.n, 0);
	gfsb_objlist_fini(&l);
	gfsb_backend_close(plain);
	assert_int_equal(gfsb_ops_sync(f->src, f->dst_be, &so, &sr), GFSB_OK);
	so.object_lock = GFSB_LOCK_GOVERNANCE;
	assert_int_equal(gfsb_ops_sync(f->src, f->dst_be, &so, &sr),
	    GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), "locked in "
	    "compliance, not governance"));
	gfsb_ctx_clearerr(f->ctx);
}

/*
 * A storage that refuses a deletion sync did not expect (here: an
 * unlocked mirror whose forgotten snapshot the storage holds anyway):
 * the sync still succeeds, keeps the snapshot and what it needs indexed,
 * and the mirror stays whole.
 */
static void
test_refused_delete(void **state)
{
	struct fx *f = *state;
	const char *paths[1] = { f->dir };
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result br;
	struct gfsb_forget_opts fo;
	struct gfsb_forget_result fr;
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pr;
	struct gfsb_sync_opts so;
	struct gfsb_sync_result sr;
	struct gfsb_retention ret;
	struct gfsb_snapshot **list;
	struct gfsb_policy *last1;
	char path[256];
	size_t n;
	int day;

	memset(&so, 0, sizeof(so));
	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.has_time = 1;
	bo.threads = 1;
	for (day = 0; day < 2; day++) {
		snprintf(path, sizeof(path), "f%d", day);
		write_file(f->dir, path, 20000);
		bo.time.sec = at(day, 1);
		assert_int_equal(gfsb_ops_backup(f->src, &bo, &br), GFSB_OK);
	}
	assert_int_equal(gfsb_ops_sync(f->src, f->dst_be, &so, &sr), GFSB_OK);
	/* The storage holds the first snapshot, which the mirror's config
	 * knows nothing of (an unlocked mirror). */
	gfsb_backend_mem_set_time(f->dst_be, at(2, 0));
	assert_int_equal(gfsb_repo_snapshot_list(f->src, &list, &n), GFSB_OK);
	ret.mode = GFSB_LOCK_COMPLIANCE;
	ret.until = at(30, 0);
	assert_int_equal(gfsb_backend_retention_set(f->dst_be,
	    GFSB_OBJ_SNAPSHOT, list[0]->id, &ret), GFSB_OK);
	gfsb_repo_snapshot_list_free(list, n);
	/* The source forgets everything but the last and prunes. */
	snprintf(path, sizeof(path), "%s/f0", f->dir);
	unlink(path);
	bo.time.sec = at(2, 1);
	assert_int_equal(gfsb_ops_backup(f->src, &bo, &br), GFSB_OK);
	memset(&fo, 0, sizeof(fo));
	assert_int_equal(gfsb_gfs_policy_new(&last1), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(f->ctx, last1, "keep-last", "1",
	    "t"), GFSB_OK);
	fo.policy = last1;
	fo.group_by = GFSB_GROUP_HOST;
	assert_int_equal(gfsb_ops_forget(f->src, &fo, &fr), GFSB_OK);
	assert_int_equal(fr.removed, 2);
	gfsb_ops_forget_fini(&fr);
	gfsb_gfs_policy_free(last1);
	memset(&po, 0, sizeof(po));
	assert_int_equal(gfsb_ops_prune(f->src, &po, &pr), GFSB_OK);
	assert_int_equal(gfsb_ops_sync(f->src, f->dst_be, &so, &sr), GFSB_OK);
	assert_true(sr.delete_refused >= 1);
	assert_true(sr.kept >= 1);
	/* Whole: every snapshot it lists, the kept one included. */
	assert_true(mirror_clean(f) >= 2);
}

/* A copy of the source's (version 1) config at be, compression changed:
 * the same keys and id, another repository's settings. */
static void
put_other_config(struct fx *f, struct gfsb_backend *be)
{
	struct gfsb_buf plain, sealed;
	char *p;

	gfsb_buf_init(&plain);
	gfsb_buf_init(&sealed);
	assert_int_equal(repo_obj_load(f->src, GFSB_OBJ_CONFIG, ENV_CONFIG,
	    "config", MAX_CONFIG, &plain), GFSB_OK);
	assert_non_null(gfsb_buf_reserve(&plain, 1) == GFSB_OK ?
	    plain.data : NULL);
	plain.data[plain.len] = '\0';
	assert_non_null(p = strstr((char *)plain.data, "\"compression\":"));
	p[strlen("\"compression\":")] = '9';
	assert_int_equal(repo_obj_seal(f->src, ENV_CONFIG, plain.data,
	    plain.len, &sealed), GFSB_OK);
	assert_int_equal(gfsb_backend_put(be, GFSB_OBJ_CONFIG, "config",
	    sealed.data, sealed.len), GFSB_OK);
	gfsb_buf_fini(&plain);
	gfsb_buf_fini(&sealed);
}

/*
 * A write-only key keeps a locked mirror (docs/WRITE-ONLY-KEYS.md, "sync
 * with a write-only key").  The mirror, made while the repository was
 * version 1, is given the reader keys by a full key's sync, and only
 * then takes the writer's sync; a mirror whose config differs otherwise
 * is refused the keys.  The writer's copies are locked from their first
 * put for the son window, its keys for the longest, in the mirror's
 * mode read from its key file; it deletes nothing the source dropped;
 * a full key then reads every snapshot at the mirror, the writer's too.
 */
static void
test_write_only_sync(void **state)
{
	static const char wpass[] = "the writer";
	struct fx *f = *state;
	struct gfsb_backend *other;
	struct gfsb_sync_result sr;
	struct gfsb_snapshot **list;
	struct gfsb_objlist snaps;
	struct gfsb_repo *w;
	struct gfsb_buf before, after;
	char wid[GFSB_ID_HEX];
	int64_t until, latest;
	size_t n, k, keys;

	write_file(f->dir, "w0", 20000);
	backup_at(f, f->src, 0);
	assert_int_equal(sync_at(f, f->src, f->dst_be, 0,
	    GFSB_LOCK_COMPLIANCE, &sr), GFSB_OK);
	assert_int_equal(gfsb_backend_mem_new(f->ctx, &other), GFSB_OK);
	assert_int_equal(gfsb_backend_create(other), GFSB_OK);
	put_other_config(f, other);
	assert_int_equal(gfsb_repo_key_add_write_only(f->src, wpass,
	    strlen(wpass), 1, 8 << 20, wid), GFSB_OK);
	assert_int_equal(gfsb_repo_open(f->ctx, f->src_be, wpass,
	    strlen(wpass), &w), GFSB_OK);
	assert_true(gfsb_repo_write_only(w));

	/* Before a full key's sync the mirror does not know the writer,
	 * and nothing is written. */
	keys = fx_objects(f->dst_be, GFSB_OBJ_KEY);
	assert_int_equal(sync_at(f, w, f->dst_be, 1, GFSB_LOCK_NONE, &sr),
	    GFSB_EAUTH);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), "does not hold "
	    "write-only key"));
	gfsb_ctx_clearerr(f->ctx);
	assert_int_equal(fx_objects(f->dst_be, GFSB_OBJ_KEY), keys);

	/* Another repository's config under the same keys: refused the
	 * reader keys, its config as it was. */
	gfsb_buf_init(&before);
	gfsb_buf_init(&after);
	assert_int_equal(gfsb_backend_get(other, GFSB_OBJ_CONFIG, "config",
	    &before), GFSB_OK);
	assert_int_equal(sync_at(f, f->src, other, 1, GFSB_LOCK_NONE, &sr),
	    GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), "differs from the "
	    "source's"));
	gfsb_ctx_clearerr(f->ctx);
	assert_int_equal(gfsb_backend_get(other, GFSB_OBJ_CONFIG, "config",
	    &after), GFSB_OK);
	assert_int_equal(after.len, before.len);
	assert_memory_equal(after.data, before.data, before.len);
	gfsb_buf_fini(&before);
	gfsb_buf_fini(&after);
	gfsb_backend_close(other);

	/* The full key's sync: the reader keys, then the key files. */
	assert_int_equal(sync_at(f, f->src, f->dst_be, 1,
	    GFSB_LOCK_COMPLIANCE, &sr), GFSB_OK);
	assert_true(sr.upgraded);
	assert_int_equal(fx_objects(f->dst_be, GFSB_OBJ_KEY), keys + 1);
	assert_int_equal(sync_at(f, f->src, f->dst_be, 1,
	    GFSB_LOCK_COMPLIANCE, &sr), GFSB_OK);
	assert_false(sr.upgraded);

	/* Two nights of the writer: backup, sync in the key file's mode. */
	write_file(f->dir, "w2", 20000);
	backup_at(f, w, 2);
	assert_int_equal(sync_at(f, w, f->dst_be, 2, GFSB_LOCK_NONE, &sr),
	    GFSB_OK);
	assert_int_equal(sr.locked, GFSB_LOCK_COMPLIANCE);
	assert_true(sr.copied >= 3);
	assert_int_equal(sr.deleted, 0);
	write_file(f->dir, "w3", 20000);
	backup_at(f, w, 3);
	assert_int_equal(sync_at(f, w, f->dst_be, 3, GFSB_LOCK_NONE, &sr),
	    GFSB_OK);
	assert_true(retention(f, GFSB_OBJ_KEY, wid) >= at(1, 2) + 90 * 86400);
	/* Each snapshot locked as a son at least (seven dailies) from the
	 * night it was copied. */
	assert_int_equal(gfsb_backend_list_all(f->src_be, GFSB_OBJ_SNAPSHOT,
	    &snaps), GFSB_OK);
	assert_int_equal(snaps.n, 3);
	for (k = 0, latest = 0; k < snaps.n; k++) {
		until = retention(f, GFSB_OBJ_SNAPSHOT, snaps.v[k].name);
		assert_true(until >= at(0, 2) + 6 * 86400 + MARGIN);
		if (until > latest)
			latest = until;
	}
	/* Night 3's, copied by the writer alone. */
	assert_true(latest >= at(3, 2) + 6 * 86400 + MARGIN);
	gfsb_objlist_fini(&snaps);

	/* The source forgets its first snapshot: the writer's sync keeps
	 * it. */
	assert_int_equal(gfsb_repo_snapshot_list(f->src, &list, &n),
	    GFSB_OK);
	assert_int_equal(n, 3);
	for (k = 0; k < n && list[k]->time.sec != at(0, 1); k++)
		;
	assert_true(k < n);
	assert_int_equal(gfsb_backend_remove(f->src_be, GFSB_OBJ_SNAPSHOT,
	    list[k]->id), GFSB_OK);
	gfsb_repo_snapshot_list_free(list, n);
	/* (Long after its lock has passed.) */
	assert_int_equal(sync_at(f, w, f->dst_be, 40, GFSB_LOCK_NONE, &sr),
	    GFSB_OK);
	assert_int_equal(sr.deleted, 0);
	assert_int_equal(fx_objects(f->dst_be, GFSB_OBJ_SNAPSHOT), 3);

	/* The full key reads all three at the mirror. */
	assert_int_equal(mirror_clean(f), 3);
	gfsb_repo_close(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_locked_mirror_nights,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_mode_refusals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_delete,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_only_sync,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
