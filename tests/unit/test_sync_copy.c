/*
 * sync copying and mirroring, on in-memory backends: the mirror is a
 * whole repository at every instant of a sync (after each object the
 * sync writes or removes, the mirror opens and its structure verifies
 * clean: no snapshot before its trees and data, no index before its
 * packs, no pack removed while something names it), first sync and
 * incremental, a dry run that writes nothing, deletions mirrored or kept
 * (append-only), and a source outage that stops the sync with the mirror
 * still whole.  (test_sync.c: mirrors under Object Lock.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "sync pass"

struct fixture {
	char src[64];
	struct fx_repo x;
	struct gfsb_backend *dst;
	size_t writes, checked;	/* by the hook */
	char snaps[4][GFSB_ID_HEX];
};

/* The mirror's structure now; -1 when it does not open. */
static int
damage_now(struct fixture *f, size_t *snapshots)
{
	struct gfsb_verify_opts vo;
	struct gfsb_verify_result res;
	struct gfsb_repo *m = NULL;
	struct gfsb_ctx *ctx;
	int d;

	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	if (gfsb_repo_open(ctx, f->dst, PASS, strlen(PASS), &m) != GFSB_OK) {
		gfsb_ctx_free(ctx);
		return -1;
	}
	memset(&vo, 0, sizeof(vo));
	vo.no_lock = 1;	/* the sync holds the mirror's */
	vo.threads = 1;
	gfsb_time_now(&vo.now);
	if (gfsb_ops_verify(m, &vo, &res) != GFSB_OK)
		fail_msg("verify of the mirror: %s", gfsb_ctx_errmsg(ctx));
	d = (int)(res.ndamage + res.broken_total);
	*snapshots = res.snapshots;
	gfsb_ops_verify_result_fini(&res);
	gfsb_repo_close(m);
	gfsb_ctx_free(ctx);
	return d;
}

/* After each write to the mirror: it opens (once its keys are there) and
 * nothing in it is damaged or broken. */
static void
on_write(void *cookie, enum gfsb_obj type, const char *name, int removed)
{
	struct fixture *f = cookie;
	size_t snapshots = 0;
	int d;

	f->writes++;
	if (type == GFSB_OBJ_LOCK)
		return;
	if ((d = damage_now(f, &snapshots)) < 0) {
		/* Only the config and the keys come before it opens. */
		assert_true(type == GFSB_OBJ_CONFIG || type == GFSB_OBJ_KEY);
		return;
	}
	if (d != 0)
		fail_msg("the mirror is damaged after %s of %s %.16s",
		    removed ? "the removal" : "the copy",
		    gfsb_backend_type_name(type), name);
	f->checked++;
}

static void
backup(struct fixture *f, int night)
{
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result br;
	const char *paths[1];
	char path[128];

	/* Each night changes two files and adds one. */
	snprintf(path, sizeof(path), "%s/file%d", f->src, night % 4);
	fx_write(path, 300 << 10, 100 + (unsigned)night);
	snprintf(path, sizeof(path), "%s/new%d", f->src, night);
	fx_write(path, 200 << 10, 200 + (unsigned)night);
	memset(&bo, 0, sizeof(bo));
	paths[0] = f->src;
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &br), GFSB_OK);
	memcpy(f->snaps[night], br.snapshot_id, GFSB_ID_HEX);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];
	int i;

	assert_non_null(f);
	fx_tmpdir(f->src, sizeof(f->src), "sync-copy");
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/file%d", f->src, i);
		fx_write(path, 300 << 10, (unsigned)i);
	}
	fx_repo_new(&f->x, PASS, 1 << 20);
	assert_int_equal(gfsb_backend_mem_new(f->x.ctx, &f->dst), GFSB_OK);
	for (i = 0; i < 3; i++)
		backup(f, i);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	gfsb_backend_close(f->dst);
	fx_repo_free(&f->x);
	fx_rm_rf(f->src);
	free(f);
	return 0;
}

static gfsb_err
sync_now(struct fixture *f, enum gfsb_sync_delete mode, int dry,
    struct gfsb_sync_result *res)
{
	struct gfsb_sync_opts so;

	memset(&so, 0, sizeof(so));
	so.threads = 4;
	so.delete_mode = mode;
	so.dry_run = dry;
	gfsb_ctx_clearerr(f->x.ctx);
	return gfsb_ops_sync(f->x.r, f->dst, &so, res);
}

/* The mirror, read whole: every pack, every blob. */
static void
mirror_reads_clean(struct fixture *f, size_t snapshots)
{
	struct gfsb_verify_opts vo;
	struct gfsb_verify_result res;
	struct gfsb_repo *m;

	assert_int_equal(gfsb_repo_open(f->x.ctx, f->dst, PASS, strlen(PASS),
	    &m), GFSB_OK);
	memset(&vo, 0, sizeof(vo));
	vo.read = GFSB_VERIFY_READ_ALL;
	gfsb_time_now(&vo.now);
	assert_int_equal(gfsb_ops_verify(m, &vo, &res), GFSB_OK);
	assert_int_equal(res.ndamage, 0);
	assert_int_equal(res.broken_total, 0);
	assert_int_equal(res.snapshots, snapshots);
	assert_int_equal(res.packs_read, res.packs);
	gfsb_ops_verify_result_fini(&res);
	gfsb_repo_close(m);
}

static void
test_first_and_incremental(void **state)
{
	struct fixture *f = *state;
	struct gfsb_sync_result res;
	size_t packs = fx_objects(f->x.be, GFSB_OBJ_PACK);

	gfsb_backend_mem_on_write(f->dst, on_write, f);
	assert_int_equal(sync_now(f, GFSB_SYNC_DELETE_AFTER_LOCK, 0, &res),
	    GFSB_OK);
	assert_int_equal(res.initialized, 1);
	assert_int_equal(res.failed, 0);
	assert_int_equal(fx_objects(f->dst, GFSB_OBJ_PACK), packs);
	assert_int_equal(fx_objects(f->dst, GFSB_OBJ_SNAPSHOT), 3);
	assert_true(f->checked >= res.copied - 2);	/* all but config, key */
	mirror_reads_clean(f, 3);

	/* Another night: only what it added is copied. */
	backup(f, 3);
	f->checked = 0;
	assert_int_equal(sync_now(f, GFSB_SYNC_DELETE_AFTER_LOCK, 0, &res),
	    GFSB_OK);
	assert_int_equal(res.initialized, 0);
	assert_true(res.copied >= 3);	/* a pack, an index, a snapshot */
	assert_true(res.present >= packs);
	assert_true(f->checked >= res.copied);
	mirror_reads_clean(f, 4);

	/* Nothing new: nothing copied. */
	assert_int_equal(sync_now(f, GFSB_SYNC_DELETE_AFTER_LOCK, 0, &res),
	    GFSB_OK);
	assert_int_equal(res.copied, 0);
	gfsb_backend_mem_on_write(f->dst, NULL, NULL);
}

static void
test_dry_run(void **state)
{
	struct fixture *f = *state;
	struct gfsb_sync_result res;

	gfsb_backend_mem_on_write(f->dst, on_write, f);
	assert_int_equal(sync_now(f, GFSB_SYNC_DELETE_AFTER_LOCK, 1, &res),
	    GFSB_OK);
	gfsb_backend_mem_on_write(f->dst, NULL, NULL);
	assert_true(res.copied > 0);
	assert_int_equal(f->writes, 0);
	assert_int_equal(fx_objects(f->dst, GFSB_OBJ_CONFIG), 0);
}

/* Forget the first two nights and prune at the source. */
static void
forget_two(struct fixture *f)
{
	struct gfsb_forget_ids_result fr;
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pr;
	const char *ids[2];

	ids[0] = f->snaps[0];
	ids[1] = f->snaps[1];
	assert_int_equal(gfsb_ops_forget_ids(f->x.r, ids, 2, 0, &fr),
	    GFSB_OK);
	assert_int_equal(fr.removed, 2);
	gfsb_ops_forget_ids_fini(&fr);
	memset(&po, 0, sizeof(po));
	assert_int_equal(gfsb_ops_prune(f->x.r, &po, &pr), GFSB_OK);
}

static void
test_deletions_mirrored(void **state)
{
	struct fixture *f = *state;
	struct gfsb_sync_result res;

	assert_int_equal(sync_now(f, GFSB_SYNC_DELETE_AFTER_LOCK, 0, &res),
	    GFSB_OK);
	forget_two(f);
	f->checked = 0;
	gfsb_backend_mem_on_write(f->dst, on_write, f);
	assert_int_equal(sync_now(f, GFSB_SYNC_DELETE_AFTER_LOCK, 0, &res),
	    GFSB_OK);
	gfsb_backend_mem_on_write(f->dst, NULL, NULL);
	assert_true(res.deleted >= 2);
	assert_true(f->checked >= res.deleted);
	assert_int_equal(fx_objects(f->dst, GFSB_OBJ_SNAPSHOT), 1);
	assert_int_equal(fx_objects(f->dst, GFSB_OBJ_PACK),
	    fx_objects(f->x.be, GFSB_OBJ_PACK));
	mirror_reads_clean(f, 1);
}

static void
test_deletions_kept(void **state)
{
	struct fixture *f = *state;
	struct gfsb_sync_result res;

	assert_int_equal(sync_now(f, GFSB_SYNC_DELETE_NEVER, 0, &res),
	    GFSB_OK);
	forget_two(f);
	gfsb_backend_mem_on_write(f->dst, on_write, f);
	assert_int_equal(sync_now(f, GFSB_SYNC_DELETE_NEVER, 0, &res),
	    GFSB_OK);
	gfsb_backend_mem_on_write(f->dst, NULL, NULL);
	/* An append-only mirror: the forgotten nights still restore, named
	 * by an index of its own once the source's no longer names them. */
	assert_int_equal(res.deleted, 0);
	assert_true(res.kept >= 2);
	assert_int_equal(fx_objects(f->dst, GFSB_OBJ_SNAPSHOT), 3);
	mirror_reads_clean(f, 3);
}

static void
test_source_outage(void **state)
{
	struct fixture *f = *state;
	struct gfsb_sync_result res;
	gfsb_err e;

	gfsb_backend_mem_on_write(f->dst, on_write, f);
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_PACK, NULL, GFSB_ENET);
	e = sync_now(f, GFSB_SYNC_DELETE_AFTER_LOCK, 0, &res);
	gfsb_backend_mem_fault(f->x.be, GFSB_OBJ_PACK, NULL, GFSB_OK);
	assert_int_equal(e, GFSB_ENET);
	/* Nothing that needs the packs was copied. */
	assert_int_equal(fx_objects(f->dst, GFSB_OBJ_PACK), 0);
	assert_int_equal(fx_objects(f->dst, GFSB_OBJ_SNAPSHOT), 0);
	assert_int_equal(fx_objects(f->dst, GFSB_OBJ_INDEX), 0);
	/* The outage over, the next sync completes the mirror. */
	assert_int_equal(sync_now(f, GFSB_SYNC_DELETE_AFTER_LOCK, 0, &res),
	    GFSB_OK);
	gfsb_backend_mem_on_write(f->dst, NULL, NULL);
	mirror_reads_clean(f, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_and_incremental,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deletions_mirrored, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deletions_kept, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_source_outage, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
