/*
 * forget and prune on an in-memory repository: ten nights, each with its
 * own data; forget under keep-daily 3 / keep-weekly 2 keeps exactly the
 * snapshots the GFS rules name (and a dry run removes nothing); prune
 * (dry, then for real) frees the data only the removed snapshots used,
 * leaves a repository that verifies whole, every kept snapshot restoring
 * its own night's bytes, and has nothing left to do the second time.
 * Prune in two phases: what a backup that began before the mark may use
 * is only marked, and a snapshot it saves brings it back; a backup that
 * begins after the mark stores anew; the grace keeps marked packs.
 * What forget is given goes together, or is refused in one line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "prune pass"
#define NIGHTS 10
#define SIZE (300U << 10)

struct fixture {
	char base[64], src[128];
	struct fx_repo x;
	char ids[NIGHTS + 1][GFSB_ID_HEX];	/* per night, 1-based */
	struct gfsb_policy *pol;
};

static void
write_night(struct fixture *f, unsigned night)
{
	static uint8_t buf[SIZE];
	char path[192];
	FILE *fp;

	fx_fill(buf, SIZE, night);
	snprintf(path, sizeof(path), "%s/current", f->src);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(buf, 1, SIZE, fp), SIZE);
	assert_int_equal(fclose(fp), 0);
}

static void
when(unsigned night, struct gfsb_time *t)
{
	char s[32];

	snprintf(s, sizeof(s), "2026-06-%02u 01:00:00", night);
	assert_int_equal(gfsb_time_parse_local(s, t), GFSB_OK);
}

static int
setup(void **state)
{
	const char *paths[1];
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result br;
	struct fixture *f = calloc(1, sizeof(*f));
	char path[192];
	FILE *fp;
	unsigned n;

	assert_non_null(f);
	fx_tmpdir(f->base, sizeof(f->base), "prune");
	snprintf(f->src, sizeof(f->src), "%s/src", f->base);
	assert_int_equal(mkdir(f->src, 0755), 0);
	snprintf(path, sizeof(path), "%s/static", f->src);
	assert_non_null(fp = fopen(path, "w"));
	fputs("the same every night\n", fp);
	fclose(fp);
	fx_repo_new(&f->x, PASS, 1 << 20);
	memset(&bo, 0, sizeof(bo));
	paths[0] = f->src;
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	bo.has_time = 1;
	for (n = 1; n <= NIGHTS; n++) {
		write_night(f, n);
		when(n, &bo.time);
		assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &br), GFSB_OK);
		snprintf(f->ids[n], GFSB_ID_HEX, "%s", br.snapshot_id);
	}
	assert_int_equal(gfsb_gfs_policy_new(&f->pol), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(f->x.ctx, f->pol, "keep-daily",
	    "3", "test"), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(f->x.ctx, f->pol, "keep-weekly",
	    "2", "test"), GFSB_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gfsb_gfs_policy_free(f->pol);
	fx_repo_free(&f->x);
	fx_rm_rf(f->base);
	free(f);
	return 0;
}

/* "n:roles" of every snapshot forget keeps, by night, oldest first. */
static void
forget(struct fixture *f, int dry, char *kept, size_t len)
{
	struct gfsb_forget_opts fo;
	struct gfsb_forget_result fr;
	size_t g, i, o = 0;
	unsigned n;

	memset(&fo, 0, sizeof(fo));
	fo.policy = f->pol;
	fo.group_by = GFSB_GROUP_HOST | GFSB_GROUP_PATHS;
	fo.dry_run = dry;
	fo.has_now = 1;
	when(NIGHTS, &fo.now);
	fo.now.sec += 6 * 3600;
	assert_int_equal(gfsb_ops_forget(f->x.r, &fo, &fr), GFSB_OK);
	kept[0] = '\0';
	for (n = 1; n <= NIGHTS; n++)
		for (g = 0; g < fr.ngroups; g++)
			for (i = 0; i < fr.groups[g].n; i++)
				if (strcmp(fr.groups[g].snaps[i]->id,
				    f->ids[n]) == 0 && fr.groups[g].dec[i].keep)
					o += (size_t)snprintf(kept + o,
					    len - o, "%s%u:%s%s", o ? " " : "",
					    n, fr.groups[g].dec[i].roles &
					    GFSB_ROLE_DAILY ? "d" : "",
					    fr.groups[g].dec[i].roles &
					    GFSB_ROLE_WEEKLY ? "w" : "");
	assert_int_equal(fr.nall, dry ? NIGHTS : NIGHTS);
	assert_int_equal(fr.removed, NIGHTS - fr.kept);
	gfsb_ops_forget_fini(&fr);
}

static size_t
count(struct fixture *f, enum gfsb_obj type, uint64_t *bytes)
{
	struct gfsb_objlist l;
	size_t n, i;

	assert_int_equal(gfsb_backend_list_all(f->x.be, type, &l), GFSB_OK);
	n = l.n;
	for (i = 0, *bytes = 0; i < l.n; i++)
		*bytes += l.v[i].size;
	gfsb_objlist_fini(&l);
	return n;
}

static void
prune(struct fixture *f, int dry, struct gfsb_prune_result *pr)
{
	struct gfsb_prune_opts po;

	memset(&po, 0, sizeof(po));
	po.max_unused = 0.05;
	po.dry_run = dry;
	if (gfsb_ops_prune(f->x.r, &po, pr) != GFSB_OK)
		fail_msg("prune: %s", gfsb_ctx_errmsg(f->x.ctx));
}

/* Night n's snapshot restores its own "current". */
static void
restores_night(struct fixture *f, unsigned n)
{
	static uint8_t want[SIZE], got[SIZE];
	struct gfsb_restore_opts o;
	struct gfsb_restore_result res;
	char dir[160], path[512];
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/r%u", f->base, n);
	fx_rm_rf(dir);
	memset(&o, 0, sizeof(o));
	o.snapshot = f->ids[n];
	o.target = dir;
	assert_int_equal(gfsb_ops_restore(f->x.r, &o, &res), GFSB_OK);
	assert_int_equal(res.damaged_files, 0);
	snprintf(path, sizeof(path), "%s%s/current", dir, f->src);
	assert_non_null(fp = fopen(path, "r"));
	assert_int_equal(fread(got, 1, SIZE, fp), SIZE);
	fclose(fp);
	fx_fill(want, SIZE, n);
	assert_memory_equal(got, want, SIZE);
}

static void
test_forget_then_prune(void **state)
{
	struct fixture *f = *state;
	struct gfsb_prune_result pr;
	struct gfsb_verify_opts vo;
	struct gfsb_verify_result vr;
	uint64_t b0, b1, b2;
	size_t p0, p1;
	char kept[256];

	/* 2026-06-07 is a Sunday: the week of the 1st ends there. */
	forget(f, 1, kept, sizeof(kept));
	assert_string_equal(kept, "7:w 8:d 9:d 10:dw");
	assert_int_equal(count(f, GFSB_OBJ_SNAPSHOT, &b0), NIGHTS);
	forget(f, 0, kept, sizeof(kept));
	assert_string_equal(kept, "7:w 8:d 9:d 10:dw");
	assert_int_equal(count(f, GFSB_OBJ_SNAPSHOT, &b0), 4);

	p0 = count(f, GFSB_OBJ_PACK, &b0);
	prune(f, 1, &pr);
	assert_true(pr.st.blobs_unused >= 6);
	assert_int_equal(count(f, GFSB_OBJ_PACK, &b1), p0);
	assert_true(b1 == b0);
	/* This process wrote the ten index files after its first load:
	 * prune must replace them all. */
	prune(f, 0, &pr);
	assert_int_equal(pr.st.index_files_removed, NIGHTS);
	assert_int_equal(count(f, GFSB_OBJ_INDEX, &b1),
	    pr.st.index_files_written);
	assert_true(pr.st.packs_deleted + pr.st.packs_repacked > 0);
	assert_true(pr.st.bytes_freed >= 5 * (uint64_t)SIZE);
	p1 = count(f, GFSB_OBJ_PACK, &b2);
	assert_true(p1 < p0);
	assert_true(b2 + pr.st.bytes_freed == b0);
	/* What is left: whole, and every kept night restores (as a new
	 * process sees it). */
	gfsb_repo_close(f->x.r);
	f->x.r = NULL;
	assert_int_equal(gfsb_repo_open(f->x.ctx, f->x.be, PASS, strlen(PASS),
	    &f->x.r), GFSB_OK);
	memset(&vo, 0, sizeof(vo));
	vo.read = GFSB_VERIFY_READ_ALL;
	gfsb_time_now(&vo.now);
	assert_int_equal(gfsb_ops_verify(f->x.r, &vo, &vr), GFSB_OK);
	assert_int_equal(vr.ndamage, 0);
	/* What is left unused sits in packs used to 95% at least. */
	assert_true(pr.st.unused_bytes_after * 20 <= b2);
	gfsb_ops_verify_result_fini(&vr);
	restores_night(f, 7);
	restores_night(f, 8);
	restores_night(f, 9);
	restores_night(f, 10);
	/* Nothing left to do. */
	prune(f, 0, &pr);
	assert_int_equal(pr.st.packs_deleted + pr.st.packs_repacked, 0);
	assert_int_equal(count(f, GFSB_OBJ_PACK, &b1), p1);
}

/* Another host, through a repository handle of its own, backs f->src up
 * (this process's handle has read the index before). */
static void
other_host_backup(struct fixture *f, struct gfsb_backup_result *br)
{
	const char *paths[1] = { f->src };
	struct gfsb_backup_opts bo;
	struct gfsb_repo *other;

	assert_int_equal(gfsb_repo_open(f->x.ctx, f->x.be, PASS, strlen(PASS),
	    &other), GFSB_OK);
	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	bo.host = "other-host";
	assert_int_equal(gfsb_ops_backup(other, &bo, br), GFSB_OK);
	gfsb_repo_close(other);
}

/*
 * Two hosts, one repository: this process loaded the index (its backup),
 * then another host backed up, then this process verifies, as the daily
 * job does after its backup and prune: the other host's snapshot is not
 * damage (its trees are in an index file written after this process read
 * the index), and everything reads.
 */
static void
test_verify_other_host_meanwhile(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backup_result br;
	struct gfsb_verify_opts vo;
	struct gfsb_verify_result vr;
	char path[160];
	FILE *fp;

	/* A file of its own: new data, new trees. */
	snprintf(path, sizeof(path), "%s/other-host-only", f->src);
	assert_non_null(fp = fopen(path, "w"));
	fputs("written on the other host, once\n", fp);
	fclose(fp);
	other_host_backup(f, &br);
	assert_true(br.summary.files_new > 0 && br.summary.tree_blobs > 0);
	memset(&vo, 0, sizeof(vo));
	vo.read = GFSB_VERIFY_READ_ALL;
	gfsb_time_now(&vo.now);
	assert_int_equal(gfsb_ops_verify(f->x.r, &vo, &vr), GFSB_OK);
	assert_int_equal(vr.ndamage, 0);
	assert_int_equal(vr.nbroken, 0);
	assert_int_equal(vr.nbroken_snapshots, 0);
	assert_int_equal(vr.snapshots, NIGHTS + 1);
	gfsb_ops_verify_result_fini(&vr);
	assert_int_equal(unlink(path), 0);
}

/*
 * Two hosts, one repository: this process loaded the index (its backup),
 * then another host backed up (new packs, a new index file), then this
 * process prunes.  The other host's packs are not leftovers: they stay,
 * and its snapshot restores.
 */
static void
test_other_host_meanwhile(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backup_result br;
	struct gfsb_prune_result pr;
	struct gfsb_restore_opts ro;
	struct gfsb_restore_result rr;
	uint64_t b;
	size_t before;
	char dir[160];

	write_night(f, 42);
	other_host_backup(f, &br);
	before = count(f, GFSB_OBJ_PACK, &b);
	prune(f, 0, &pr);
	assert_int_equal(pr.st.unindexed_deleted, 0);
	assert_int_equal(count(f, GFSB_OBJ_PACK, &b), before -
	    pr.st.packs_deleted - pr.st.packs_repacked + pr.st.packs_written);
	memset(&ro, 0, sizeof(ro));
	ro.snapshot = br.snapshot_id;
	snprintf(dir, sizeof(dir), "%s/other", f->base);
	ro.target = dir;
	assert_int_equal(gfsb_ops_restore(f->x.r, &ro, &rr), GFSB_OK);
	assert_int_equal(rr.damaged_files, 0);
}


/* Night n's data backed up through handle b (the night's time), as the
 * snapshot restores_night(f, n) checks. */
static void
backup_night_via(struct fixture *f, struct gfsb_repo *b, unsigned n,
    struct gfsb_backup_result *br)
{
	const char *paths[1] = { f->src };
	struct gfsb_backup_opts bo;

	write_night(f, n);
	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	bo.has_time = 1;
	when(n, &bo.time);
	bo.time.sec += 3600;
	if (gfsb_ops_backup(b, &bo, br) != GFSB_OK)
		fail_msg("backup: %s", gfsb_ctx_errmsg(f->x.ctx));
	snprintf(f->ids[n], GFSB_ID_HEX, "%s", br->snapshot_id);
}

/* The repository, opened afresh, reads whole. */
static void
verifies_whole(struct fixture *f)
{
	struct gfsb_verify_opts vo;
	struct gfsb_verify_result vr;
	struct gfsb_repo *r;

	assert_int_equal(gfsb_repo_open(f->x.ctx, f->x.be, PASS, strlen(PASS),
	    &r), GFSB_OK);
	memset(&vo, 0, sizeof(vo));
	vo.read = GFSB_VERIFY_READ_ALL;
	gfsb_time_now(&vo.now);
	assert_int_equal(gfsb_ops_verify(r, &vo, &vr), GFSB_OK);
	assert_int_equal(vr.ndamage, 0);
	assert_int_equal(vr.broken_total, 0);
	gfsb_ops_verify_result_fini(&vr);
	gfsb_repo_close(r);
}

static struct gfsb_repo *
another(struct fixture *f)
{
	struct gfsb_repo *r;

	assert_int_equal(gfsb_repo_open(f->x.ctx, f->x.be, PASS, strlen(PASS),
	    &r), GFSB_OK);
	return r;
}

/*
 * A backup began (its lock, its index) before the prune marked night 3's
 * pack: the prune deletes nothing while it runs, the backup reuses night
 * 3's blobs from the marked pack, and the next prune brings the pack back
 * for its snapshot, deleting only the rest.
 */
static void
test_backup_during_prune(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backup_result br;
	struct gfsb_prune_result pr;
	struct gfsb_lock *l, *p, *q;
	struct gfsb_repo *b = another(f);
	uint64_t bytes;
	size_t packs;
	char kept[256];

	assert_int_equal(gfsb_repo_lock(b, GFSB_REPO_LOCK_SHARED, &l),
	    GFSB_OK);
	assert_int_equal(gfsb_repo_index_load(b), GFSB_OK);
	forget(f, 0, kept, sizeof(kept));
	packs = count(f, GFSB_OBJ_PACK, &bytes);
	prune(f, 0, &pr);
	assert_true(pr.st.others_locked);
	assert_int_equal(pr.st.packs_deleted, 0);
	assert_true(pr.st.packs_deferred >= 6);
	assert_int_equal(count(f, GFSB_OBJ_PACK, &bytes), packs +
	    pr.st.packs_written);
	/* Another prune meanwhile waits; the backup does not. */
	assert_int_equal(gfsb_repo_lock(f->x.r, GFSB_REPO_LOCK_PRUNE, &p),
	    GFSB_OK);
	assert_int_equal(gfsb_repo_lock(b, GFSB_REPO_LOCK_PRUNE, &q),
	    GFSB_ELOCKED);
	gfsb_ctx_clearerr(f->x.ctx);
	gfsb_repo_unlock(p);
	backup_night_via(f, b, 3, &br);
	assert_true(br.summary.data_added < SIZE / 2);
	gfsb_repo_unlock(l);
	gfsb_repo_close(b);
	prune(f, 0, &pr);
	assert_false(pr.st.others_locked);
	assert_true(pr.st.packs_recovered >= 1);
	assert_true(pr.st.packs_deleted >= 5);
	assert_int_equal(pr.st.packs_deferred, 0);
	restores_night(f, 3);
	restores_night(f, 10);
	verifies_whole(f);
}

/*
 * A backup that begins after the mark never reuses a marked pack: night
 * 3's data is stored again, and once the lock that held the marked packs
 * goes, prune deletes every one of them.
 */
static void
test_backup_after_mark(void **state)
{
	struct fixture *f = *state;
	struct gfsb_backup_result br;
	struct gfsb_prune_result pr;
	struct gfsb_repo *h = another(f), *b;
	struct gfsb_lock *l;
	char kept[256];

	assert_int_equal(gfsb_repo_lock(h, GFSB_REPO_LOCK_SHARED, &l),
	    GFSB_OK);
	forget(f, 0, kept, sizeof(kept));
	prune(f, 0, &pr);
	assert_true(pr.st.packs_deferred >= 6);
	b = another(f);
	backup_night_via(f, b, 3, &br);
	assert_true(br.summary.data_added >= SIZE);
	gfsb_repo_close(b);
	gfsb_repo_unlock(l);
	gfsb_repo_close(h);
	prune(f, 0, &pr);
	assert_int_equal(pr.st.packs_recovered, 0);
	assert_true(pr.st.packs_deleted >= 6);
	assert_int_equal(pr.st.packs_deferred, 0);
	restores_night(f, 3);
	verifies_whole(f);
}


/* The backup of test_backup_between, run when the first phase is done. */
struct between {
	struct fixture *f;
	struct gfsb_repo *b;
	struct gfsb_lock *l;
	int ran;
};

static void
backup_between(void *cookie)
{
	struct between *bw = cookie;
	struct gfsb_backup_result br;

	backup_night_via(bw->f, bw->b, 3, &br);
	assert_true(br.summary.data_added < SIZE / 2);
	gfsb_repo_unlock(bw->l);
	bw->l = NULL;
	bw->ran = 1;
}

/*
 * A backup that began before the mark (its index loaded then) and ended
 * between the two phases: no lock says so any more, but its snapshot
 * and index file do, and the second phase keeps what it reused.
 */
static void
test_backup_between(void **state)
{
	struct fixture *f = *state;
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pr;
	struct between bw;
	char kept[256];

	memset(&bw, 0, sizeof(bw));
	bw.f = f;
	bw.b = another(f);
	assert_int_equal(gfsb_repo_lock(bw.b, GFSB_REPO_LOCK_SHARED, &bw.l),
	    GFSB_OK);
	assert_int_equal(gfsb_repo_index_load(bw.b), GFSB_OK);
	forget(f, 0, kept, sizeof(kept));
	memset(&po, 0, sizeof(po));
	po.max_unused = 0.05;
	po.marked = backup_between;
	po.marked_cookie = &bw;
	if (gfsb_ops_prune(f->x.r, &po, &pr) != GFSB_OK)
		fail_msg("prune: %s", gfsb_ctx_errmsg(f->x.ctx));
	assert_true(bw.ran);
	gfsb_repo_close(bw.b);
	assert_false(pr.st.others_locked);
	assert_true(pr.st.packs_used_since >= 1);
	assert_true(pr.st.packs_deleted >= 5);
	restores_night(f, 3);
	/* The next prune brings the pack back for good. */
	prune(f, 0, &pr);
	assert_true(pr.st.packs_recovered >= 1);
	restores_night(f, 3);
	restores_night(f, 10);
	verifies_whole(f);
}

/* --grace: marked packs stay that long, whoever holds locks. */
static void
test_grace(void **state)
{
	struct fixture *f = *state;
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pr;
	uint64_t bytes;
	size_t packs;
	char kept[256];

	forget(f, 0, kept, sizeof(kept));
	packs = count(f, GFSB_OBJ_PACK, &bytes);
	memset(&po, 0, sizeof(po));
	po.max_unused = 0.05;
	po.grace = 3600;
	assert_int_equal(gfsb_ops_prune(f->x.r, &po, &pr), GFSB_OK);
	assert_false(pr.st.others_locked);
	assert_int_equal(pr.st.packs_deleted, 0);
	assert_true(pr.st.packs_deferred >= 6);
	assert_int_equal(count(f, GFSB_OBJ_PACK, &bytes), packs +
	    pr.st.packs_written);
	verifies_whole(f);
	prune(f, 0, &pr);
	assert_true(pr.st.packs_deleted >= 6);
	assert_true(count(f, GFSB_OBJ_PACK, &bytes) < packs);
	restores_night(f, 10);
	verifies_whole(f);
}

/* forget's ids or one policy, never both nor none. */
static void
test_forget_check(void **state)
{
	struct gfsb_policy *rules;
	struct gfsb_ctx *ctx;
	const char *ids_and_policy = "give snapshot ids or a policy, not both";

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_new(&rules), GFSB_OK);
	/* Ids alone; a policy file alone. */
	assert_int_equal(gfsb_ops_forget_check(ctx, 2, NULL, rules, 0, NULL),
	    GFSB_OK);
	assert_int_equal(gfsb_ops_forget_check(ctx, 0, "p.policy", rules, 1,
	    "h1"), GFSB_OK);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "");
	assert_int_equal(gfsb_ops_forget_check(ctx, 0, NULL, NULL, 0, NULL),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "no policy: give --policy "
	    "FILE or --keep-* rules (an empty policy would keep nothing)");
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_ops_forget_check(ctx, 1, "p.policy", NULL, 0,
	    NULL), GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), ids_and_policy);
	gfsb_ctx_clearerr(ctx);
	/* --json and --host belong to a policy. */
	assert_int_equal(gfsb_ops_forget_check(ctx, 1, NULL, NULL, 1, NULL),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), ids_and_policy);
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_ops_forget_check(ctx, 1, NULL, NULL, 0, "h"),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), ids_and_policy);
	gfsb_ctx_clearerr(ctx);
	/* Rules given as options. */
	assert_int_equal(gfsb_gfs_policy_set(ctx, rules, "keep-daily", "7",
	    "--keep-daily"), GFSB_OK);
	assert_int_equal(gfsb_ops_forget_check(ctx, 0, NULL, rules, 0, NULL),
	    GFSB_OK);
	assert_int_equal(gfsb_ops_forget_check(ctx, 1, NULL, rules, 0, NULL),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), ids_and_policy);
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_ops_forget_check(ctx, 0, "p.policy", rules, 0,
	    NULL), GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "give --policy or rules as "
	    "options, not both");
	gfsb_gfs_policy_free(rules);
	gfsb_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forget_then_prune, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_verify_other_host_meanwhile,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_host_meanwhile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backup_during_prune, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backup_after_mark, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backup_between, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_grace, setup, teardown),
		cmocka_unit_test(test_forget_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
