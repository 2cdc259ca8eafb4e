/*
 * tag on an in-memory repository: tags added, removed and set, each
 * changed snapshot rewritten (new id, "original" naming the first one,
 * the old one gone, everything else the same); a dry run and a snapshot
 * already as asked change nothing; a wrong name, a bad tag or a snapshot
 * held by its Object Lock change nothing at all.  And the verification's
 * history: a retagged snapshot is neither gone nor "made to look old",
 * tags taken away are a warning, and deleting it afterwards is still a
 * finding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "tag pass"

struct fixture {
	char src[64], state[128];
	struct fx_repo x;
	char ids[2][GFSB_ID_HEX];	/* the two snapshots, oldest first */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128];

	assert_non_null(f);
	fx_tmpdir(f->src, sizeof(f->src), "tag-src");
	snprintf(path, sizeof(path), "%s/file", f->src);
	fx_write(path, 50000, 1);
	snprintf(f->state, sizeof(f->state), "%s.state", f->src);
	fx_repo_new(&f->x, PASS, 0);
	fx_backup(&f->x, f->src, NULL, NULL, "daily", f->ids[0]);
	fx_write(path, 60000, 2);
	fx_backup(&f->x, f->src, NULL, NULL, NULL, f->ids[1]);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fx_repo_free(&f->x);
	fx_rm_rf(f->src);
	unlink(f->state);
	free(f);
	return 0;
}

static gfsb_err
tag(struct fixture *f, const char *id, const char *add, const char *rm,
    int set, const char *setv, int dry, struct gfsb_tag_result *res)
{
	struct gfsb_tag_opts o;

	memset(&o, 0, sizeof(o));
	o.ids = &id;
	o.nids = id != NULL;
	o.add = &add;
	o.nadd = add != NULL;
	o.remove = &rm;
	o.nremove = rm != NULL;
	o.set = &setv;
	o.nset = setv != NULL;
	o.has_set = set;
	o.dry_run = dry;
	gfsb_ctx_clearerr(f->x.ctx);
	return gfsb_ops_tag(f->x.r, &o, res);
}

/* The snapshots' ids, joined in the listing's order. */
static void
listing(struct fixture *f, char *buf, size_t len)
{
	struct gfsb_snapshot **v;
	size_t n, i, k = 0;

	assert_int_equal(gfsb_repo_snapshot_list(f->x.r, &v, &n), GFSB_OK);
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%.8s", i ? " " : "",
		    v[i]->id);
	gfsb_repo_snapshot_list_free(v, n);
}

static struct gfsb_snapshot *
load(struct fixture *f, const char *id)
{
	struct gfsb_snapshot *s;

	assert_int_equal(gfsb_repo_snapshot_load(f->x.r, id, &s), GFSB_OK);
	return s;
}

static void
test_add_remove_set(void **state)
{
	struct fixture *f = *state;
	struct gfsb_snapshot *old, *s;
	struct gfsb_tag_result res;
	char first[GFSB_ID_HEX], before[200], after[200];

	old = load(f, f->ids[0]);
	listing(f, before, sizeof(before));
	/* A dry run says, and changes nothing. */
	assert_int_equal(tag(f, f->ids[0], "legal-hold", NULL, 0, NULL, 1,
	    &res), GFSB_OK);
	assert_int_equal(res.nchanged, 1);
	gfsb_ops_tag_fini(&res);
	listing(f, after, sizeof(after));
	assert_string_equal(before, after);
	/* Added: a new snapshot, the old one gone. */
	assert_int_equal(tag(f, f->ids[0], "legal-hold", NULL, 0, NULL, 0,
	    &res), GFSB_OK);
	assert_int_equal(res.nchanged, 1);
	assert_string_equal(res.changed[0].old_id, f->ids[0]);
	snprintf(first, sizeof(first), "%s", res.changed[0].new_id);
	gfsb_ops_tag_fini(&res);
	assert_int_equal(gfsb_repo_snapshot_load(f->x.r, f->ids[0], &s),
	    GFSB_ENOTFOUND);
	s = load(f, first);
	assert_int_equal(s->ntags, 2);
	assert_string_equal(s->tags[0], "daily");
	assert_string_equal(s->tags[1], "legal-hold");
	assert_string_equal(s->original, f->ids[0]);
	assert_memory_equal(s->tree, old->tree, GFSB_ID_LEN);
	assert_int_equal(s->time.sec, old->time.sec);
	assert_int_equal(s->time.nsec, old->time.nsec);
	assert_string_equal(s->paths[0], old->paths[0]);
	gfsb_repo_snapshot_free(s);
	/* Already so: nothing written. */
	assert_int_equal(tag(f, first, "legal-hold", NULL, 0, NULL, 0, &res),
	    GFSB_OK);
	assert_int_equal(res.nchanged, 0);
	assert_int_equal(res.unchanged, 1);
	gfsb_ops_tag_fini(&res);
	/* Removed, then set to none: "original" stays the first one. */
	assert_int_equal(tag(f, first, NULL, "daily", 0, NULL, 0, &res),
	    GFSB_OK);
	s = load(f, res.changed[0].new_id);
	gfsb_ops_tag_fini(&res);
	assert_int_equal(s->ntags, 1);
	assert_string_equal(s->original, f->ids[0]);
	assert_int_equal(tag(f, s->id, NULL, NULL, 1, NULL, 0, &res), GFSB_OK);
	gfsb_repo_snapshot_free(s);
	s = load(f, res.changed[0].new_id);
	gfsb_ops_tag_fini(&res);
	assert_int_equal(s->ntags, 0);
	assert_string_equal(s->original, f->ids[0]);
	gfsb_repo_snapshot_free(s);
	gfsb_repo_snapshot_free(old);
	/* No name: every snapshot. */
	assert_int_equal(tag(f, NULL, "all", NULL, 0, NULL, 0, &res), GFSB_OK);
	assert_int_equal(res.nchanged, 2);
	gfsb_ops_tag_fini(&res);
}

static void
test_refusals(void **state)
{
	struct fixture *f = *state;
	struct gfsb_tag_result res;
	char before[200], after[200];
	const char *ids[2];
	struct gfsb_tag_opts o;

	listing(f, before, sizeof(before));
	assert_int_equal(tag(f, f->ids[0], "a", NULL, 1, "b", 0, &res),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(f->x.ctx), "give --set, or --add "
	    "and --remove: not both");
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(tag(f, f->ids[0], NULL, NULL, 0, NULL, 0, &res),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(f->x.ctx), "nothing to do: give "
	    "--add, --remove or --set");
	gfsb_ctx_clearerr(f->x.ctx);
	assert_int_equal(tag(f, f->ids[0], "a,b", NULL, 0, NULL, 0, &res),
	    GFSB_EINVAL);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "a,b"));
	assert_int_equal(tag(f, f->ids[0], "", NULL, 0, NULL, 0, &res),
	    GFSB_EINVAL);
	/* One good name and one wrong: nothing changes. */
	memset(&o, 0, sizeof(o));
	ids[0] = f->ids[0];
	ids[1] = "ffffffff";
	o.ids = ids;
	o.nids = 2;
	o.add = ids;
	o.nadd = 1;
	assert_int_not_equal(gfsb_ops_tag(f->x.r, &o, &res), GFSB_OK);
	gfsb_ops_tag_fini(&res);
	listing(f, after, sizeof(after));
	assert_string_equal(before, after);
}

/* A mirror synced with Object Lock: its snapshots are held, and tag
 * refuses rather than leave both. */
static void
test_locked(void **state)
{
	struct fixture *f = *state;
	struct gfsb_sync_result sr;
	struct gfsb_sync_opts so;
	struct gfsb_lock_opts lo;
	struct gfsb_backend *dst;
	struct gfsb_repo *mirror;
	struct gfsb_tag_opts o;
	struct gfsb_tag_result res;
	const char *add = "x";

	assert_int_equal(gfsb_backend_mem_new(f->x.ctx, &dst), GFSB_OK);
	gfsb_backend_mem_set_lock(dst, 1);
	memset(&so, 0, sizeof(so));
	memset(&lo, 0, sizeof(lo));
	gfsb_time_now(&lo.now);
	lo.margin = GFSB_LOCK_MARGIN_DEFAULT;
	so.threads = 2;
	so.object_lock = GFSB_LOCK_COMPLIANCE;
	so.locks = &lo;
	assert_int_equal(gfsb_ops_sync(f->x.r, dst, &so, &sr), GFSB_OK);
	assert_int_equal(gfsb_repo_open(f->x.ctx, dst, PASS, strlen(PASS),
	    &mirror), GFSB_OK);
	memset(&o, 0, sizeof(o));
	o.add = &add;
	o.nadd = 1;
	assert_int_equal(gfsb_ops_tag(mirror, &o, &res), GFSB_EDENIED);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->x.ctx), "Object Lock"));
	gfsb_ops_tag_fini(&res);
	gfsb_repo_close(mirror);
	gfsb_backend_close(dst);
}

/* Verify with a history and a policy that keeps both snapshots. */
static void
verify(struct fixture *f, struct gfsb_policy *pol, const char *when,
    struct gfsb_verify_result *res)
{
	struct gfsb_verify_opts vo;

	memset(&vo, 0, sizeof(vo));
	vo.state_file = f->state;
	vo.policy = pol;
	assert_int_equal(gfsb_time_parse_local(when, &vo.now), GFSB_OK);
	assert_int_equal(gfsb_ops_verify(f->x.r, &vo, res), GFSB_OK);
}

static int
has_line(char *const *v, size_t n, const char *what)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strstr(v[i], what) != NULL)
			return 1;
	return 0;
}

static void
test_history(void **state)
{
	struct fixture *f = *state;
	struct gfsb_verify_result vr;
	struct gfsb_tag_result res;
	struct gfsb_policy *pol;
	char now[GFSB_ID_HEX];

	assert_int_equal(gfsb_gfs_policy_new(&pol), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(f->x.ctx, pol, "keep-last", "5",
	    "t"), GFSB_OK);
	verify(f, pol, "2030-01-01 03:00:00", &vr);
	assert_int_equal(vr.ntamper, 0);
	gfsb_ops_verify_result_fini(&vr);
	/* Retagged, a tag taken away: a warning, no finding. */
	assert_int_equal(tag(f, f->ids[0], "x", "daily", 0, NULL, 0, &res),
	    GFSB_OK);
	snprintf(now, sizeof(now), "%s", res.changed[0].new_id);
	gfsb_ops_tag_fini(&res);
	verify(f, pol, "2030-01-02 03:00:00", &vr);
	if (vr.ntamper > 0)
		fail_msg("retag taken for tampering: %s", vr.tamper[0]);
	assert_true(has_line(vr.warnings, vr.nwarnings, "was retagged as"));
	assert_true(has_line(vr.warnings, vr.nwarnings,
	    "tags removed: daily"));
	gfsb_ops_verify_result_fini(&vr);
	/* Then deleted: the policy keeps it, so that is a finding. */
	assert_int_equal(gfsb_repo_snapshot_remove(f->x.r, now), GFSB_OK);
	verify(f, pol, "2030-01-03 03:00:00", &vr);
	assert_true(has_line(vr.tamper, vr.ntamper, "is gone"));
	gfsb_ops_verify_result_fini(&vr);
	gfsb_gfs_policy_free(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_remove_set, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
