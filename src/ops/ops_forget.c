/*
 * forget: apply a retention policy to each group of snapshots and remove
 * the snapshot objects it does not keep.
 *
 * Groups are formed as restic forms them (host and paths by default).  All
 * decisions are made before anything is removed, and a policy that would
 * leave a group with no snapshot is refused as a whole: a typo in a policy
 * must not empty a repository.  Only snapshot objects are removed, first
 * in the crash-safe delete order; the data goes at the next prune.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

char *
gfsb_ops_role_names(unsigned roles, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ GFSB_ROLE_DAILY, "son/daily" },
		{ GFSB_ROLE_WEEKLY, "father/weekly" },
		{ GFSB_ROLE_MONTHLY, "grandfather/monthly" },
		{ GFSB_ROLE_YEARLY, "yearly" },
		{ GFSB_ROLE_HOURLY, "hourly" },
		{ GFSB_ROLE_LAST, "last" },
		{ GFSB_ROLE_WITHIN, "within" },
		{ GFSB_ROLE_TAG, "tag" },
	};
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && o < len; i++)
		if (roles & names[i].bit)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    o ? ", " : "", names[i].name);
	return buf;
}

static int
strv_eq(char *const *a, size_t na, char *const *b, size_t nb, int sorted)
{
	size_t i, j;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		if (sorted) {
			if (strcmp(a[i], b[i]) != 0)
				return 0;
			continue;
		}
		for (j = 0; j < nb; j++)
			if (strcmp(a[i], b[j]) == 0)
				break;
		if (j == nb)
			return 0;
	}
	return 1;
}

/* Do snapshots a and b belong to the same group? */
static int
same_group(const struct gfsb_snapshot *a, const struct gfsb_snapshot *b,
    unsigned by)
{
	if ((by & GFSB_GROUP_HOST) && strcmp(a->hostname, b->hostname) != 0)
		return 0;
	if ((by & GFSB_GROUP_PATHS) && !strv_eq(a->paths, a->npaths, b->paths,
	    b->npaths, 1))
		return 0;
	if ((by & GFSB_GROUP_TAGS) && !strv_eq(a->tags, a->ntags, b->tags,
	    b->ntags, 0))
		return 0;
	return 1;
}

gfsb_err
ops_decide(const struct gfsb_policy *p, unsigned group_by,
    struct gfsb_snapshot *const *snaps, size_t n, const struct gfsb_time *now,
    struct gfsb_gfs_decision *dec)
{
	return ops_decide_locks(p, group_by, snaps, n, now, 0, dec, NULL);
}

gfsb_err
ops_decide_locks(const struct gfsb_policy *p, unsigned group_by,
    struct gfsb_snapshot *const *snaps, size_t n, const struct gfsb_time *now,
    int64_t margin, struct gfsb_gfs_decision *dec, int64_t *until)
{
	struct gfsb_gfs_item *items = NULL;
	struct gfsb_gfs_decision *gd = NULL;
	size_t *grp = NULL, *members = NULL, i, j, m;
	int64_t *gu = NULL;
	gfsb_err e = GFSB_ENOMEM;

	if (n == 0)
		return GFSB_OK;
	if (group_by == 0)
		group_by = GFSB_GROUP_HOST | GFSB_GROUP_PATHS;
	/* grp[i]: the first snapshot of i's group. */
	if ((grp = malloc(n * sizeof(*grp))) == NULL ||
	    (members = malloc(n * sizeof(*members))) == NULL ||
	    (items = calloc(n, sizeof(*items))) == NULL ||
	    (gd = calloc(n, sizeof(*gd))) == NULL ||
	    (until != NULL && (gu = calloc(n, sizeof(*gu))) == NULL))
		goto out;
	for (i = 0; i < n; i++) {
		grp[i] = i;
		for (j = 0; j < i; j++)
			if (grp[j] == j && same_group(snaps[j], snaps[i],
			    group_by)) {
				grp[i] = j;
				break;
			}
	}
	for (i = 0; i < n; i++) {
		if (grp[i] != i)
			continue;
		for (j = i, m = 0; j < n; j++) {
			if (grp[j] != i)
				continue;
			members[m] = j;
			items[m].time = snaps[j]->time;
			items[m].tags = snaps[j]->tags;
			items[m++].ntags = snaps[j]->ntags;
		}
		if ((e = gfsb_gfs_apply(p, items, m, now, gd)) != GFSB_OK)
			goto out;
		if (until != NULL && (e = gfsb_gfs_lock_dates(p, items, m, gd,
		    now, margin, gu)) != GFSB_OK)
			goto out;
		for (j = 0; j < m; j++) {
			dec[members[j]] = gd[j];
			if (until != NULL)
				until[members[j]] = gu[j];
		}
	}
	e = GFSB_OK;
out:
	free(grp);
	free(members);
	free(items);
	free(gd);
	free(gu);
	return e;
}

void
gfsb_ops_forget_fini(struct gfsb_forget_result *res)
{
	size_t i;

	for (i = 0; i < res->ngroups; i++) {
		free(res->groups[i].snaps);
		free(res->groups[i].dec);
	}
	free(res->groups);
	gfsb_repo_snapshot_list_free(res->all, res->nall);
	memset(res, 0, sizeof(*res));
}

static gfsb_err
add_to_group(struct gfsb_forget_result *res, struct gfsb_snapshot *s,
    unsigned by)
{
	struct gfsb_forget_group *g = NULL, *grown;
	struct gfsb_snapshot **sv;
	size_t i;

	for (i = 0; i < res->ngroups; i++)
		if (same_group(res->groups[i].snaps[0], s, by)) {
			g = &res->groups[i];
			break;
		}
	if (g == NULL) {
		grown = realloc(res->groups, (res->ngroups + 1) *
		    sizeof(*grown));
		if (grown == NULL)
			return GFSB_ENOMEM;
		res->groups = grown;
		g = &res->groups[res->ngroups++];
		memset(g, 0, sizeof(*g));
		if (by & GFSB_GROUP_HOST)
			g->host = s->hostname;
		if (by & GFSB_GROUP_PATHS) {
			g->paths = s->paths;
			g->npaths = s->npaths;
		}
		if (by & GFSB_GROUP_TAGS) {
			g->tags = s->tags;
			g->ntags = s->ntags;
		}
	}
	if ((sv = realloc(g->snaps, (g->n + 1) * sizeof(*sv))) == NULL)
		return GFSB_ENOMEM;
	g->snaps = sv;
	g->snaps[g->n++] = s;
	return GFSB_OK;
}

/* A group in words, for messages. */
static void
group_name(const struct gfsb_forget_group *g, char *buf, size_t len)
{
	size_t o = 0, i;

	buf[0] = '\0';
	if (g->host)
		o += (size_t)snprintf(buf, len, "host %s", g->host);
	for (i = 0; g->paths && i < g->npaths && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i == 0 ?
		    (o ? ", paths " : "paths ") : " ", g->paths[i]);
	for (i = 0; g->tags && i < g->ntags && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i == 0 ?
		    (o ? ", tags " : "tags ") : ",", g->tags[i]);
	if (o == 0)
		snprintf(buf, len, "all snapshots");
}

gfsb_err
gfsb_ops_forget(struct gfsb_repo *r, const struct gfsb_forget_opts *o,
    struct gfsb_forget_result *res)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	struct gfsb_lock *lock = NULL;
	struct gfsb_gfs_item *items = NULL;
	struct gfsb_snapshot **list = NULL, *t;
	struct gfsb_time now;
	char what[1024];
	int64_t until;
	size_t n = 0, i, j, k;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	if ((e = gfsb_repo_need_full(r, "forget snapshots")) != GFSB_OK)
		return e;
	if (o->has_now)
		now = o->now;
	else
		gfsb_time_now(&now);
	if (o->policy == NULL || gfsb_gfs_policy_empty(o->policy))
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "the policy has no "
		    "rule: refusing to decide (it would keep nothing)");
	if (!o->dry_run && !o->locked &&
	    (e = gfsb_repo_lock(r, GFSB_REPO_LOCK_PRUNE, &lock)) != GFSB_OK)
		return e;
	if ((e = gfsb_repo_snapshot_list(r, &list, &n)) != GFSB_OK)
		goto out;
	res->all = list;
	res->nall = n;
	/* Newest first in each group, as restic lists them. */
	for (i = n; i-- > 0;) {
		if (o->host != NULL && strcmp(list[i]->hostname, o->host) != 0)
			continue;
		if ((e = add_to_group(res, list[i], o->group_by)) != GFSB_OK)
			goto out;
	}
	for (i = 0; i < res->ngroups; i++) {
		struct gfsb_forget_group *g = &res->groups[i];

		free(items);
		if ((items = calloc(g->n, sizeof(*items))) == NULL ||
		    (g->dec = calloc(g->n, sizeof(*g->dec))) == NULL) {
			e = GFSB_ENOMEM;
			goto out;
		}
		for (j = 0; j < g->n; j++) {
			items[j].time = g->snaps[j]->time;
			items[j].tags = g->snaps[j]->tags;
			items[j].ntags = g->snaps[j]->ntags;
		}
		if ((e = gfsb_gfs_apply(o->policy, items, g->n, &now,
		    g->dec)) != GFSB_OK)
			goto out;
		for (j = 0; j < g->n; j++)
			g->nkeep += g->dec[j].keep != 0;
		res->kept += g->nkeep;
		res->removed += g->n - g->nkeep;
		if (g->nkeep == 0) {
			group_name(g, what, sizeof(what));
			e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
			    "the policy would remove every snapshot of %s: "
			    "refused, nothing removed", what);
			goto out;
		}
	}
	/* Groups in a stable order: by host, then first path. */
	for (i = 1; i < res->ngroups; i++)
		for (k = i; k > 0; k--) {
			struct gfsb_forget_group *a = &res->groups[k - 1],
			    *b = &res->groups[k], tmp;
			int c = strcmp(a->snaps[0]->hostname,
			    b->snaps[0]->hostname);

			if (c == 0 && a->snaps[0]->npaths > 0 &&
			    b->snaps[0]->npaths > 0)
				c = strcmp(a->snaps[0]->paths[0],
				    b->snaps[0]->paths[0]);
			if (c <= 0)
				break;
			tmp = *a;
			*a = *b;
			*b = tmp;
		}
	if (o->dry_run)
		goto out;
	for (i = 0; i < res->ngroups; i++)
		for (j = 0; j < res->groups[i].n; j++) {
			if (res->groups[i].dec[j].keep)
				continue;
			t = res->groups[i].snaps[j];
			/* A locked repository keeps it until its date; the
			 * next forget removes it. */
			if (gfsb_repo_lock_held(r, GFSB_OBJ_SNAPSHOT, t->id,
			    &until)) {
				res->waiting++;
				if (until > res->waiting_until)
					res->waiting_until = until;
				continue;
			}
			e = gfsb_repo_snapshot_remove(r, t->id);
			if (e == GFSB_ENOTFOUND) {
				gfsb_ctx_clearerr(ctx); /* removed meanwhile */
				e = GFSB_OK;
			} else if (e == GFSB_EDENIED) {
				/* The storage keeps it (a lock it did not
				 * say, a policy allowing no deletes). */
				gfsb_ctx_clearerr(ctx);
				res->waiting++;
				e = GFSB_OK;
			}
			if (e != GFSB_OK)
				goto out;
		}
	e = GFSB_OK;
out:
	free(items);
	gfsb_repo_unlock(lock);
	return e;
}

static json_t *
strv_or_null(char *const *v, size_t n, int present)
{
	json_t *a;
	size_t i;

	if (!present || n == 0)
		return json_null();
	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
snap_obj(const struct gfsb_snapshot *s, int with_id)
{
	char *text = gfsb_repo_snapshot_json_one(s, with_id);
	json_t *o;

	if (text == NULL)
		return NULL;
	o = json_loads(text, 0, NULL);
	free(text);
	return o;
}

char *
gfsb_ops_forget_json(const struct gfsb_forget_result *res)
{
	static const char *const cnames[GFSB_RULE_COUNT] = { "last",
		"hourly", "daily", "weekly", "monthly", "yearly" };
	json_t *out = json_array(), *g, *keep, *remove, *reasons, *r, *m,
	    *cnt;
	char *text = NULL;
	size_t i, j, k;

	if (out == NULL)
		return NULL;
	for (i = 0; i < res->ngroups; i++) {
		const struct gfsb_forget_group *gr = &res->groups[i];

		keep = json_array();
		remove = json_array();
		reasons = json_array();
		for (j = 0; j < gr->n; j++) {
			json_array_append_new(gr->dec[j].keep ? keep : remove,
			    snap_obj(gr->snaps[j], 1));
			if (!gr->dec[j].keep)
				continue;
			m = json_array();
			for (k = 0; k < gr->dec[j].nreasons; k++)
				json_array_append_new(m,
				    json_string(gr->dec[j].reasons[k]));
			cnt = json_object();
			for (k = 0; k < GFSB_RULE_COUNT; k++)
				if (gr->dec[j].counters[k] > 0)
					json_object_set_new(cnt, cnames[k],
					    json_integer(gr->dec[j].counters[k]));
			r = json_pack("{s:o, s:o, s:o}", "snapshot",
			    snap_obj(gr->snaps[j], 0), "matches", m,
			    "counters", cnt);
			json_array_append_new(reasons, r);
		}
		if (json_array_size(remove) == 0) {
			json_decref(remove);
			remove = json_null();
		}
		g = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
		    "tags", strv_or_null(gr->tags, gr->ntags, gr->tags != NULL),
		    "host", gr->host ? json_string(gr->host) :
		    json_string(""),
		    "paths", strv_or_null(gr->paths, gr->npaths,
		    gr->paths != NULL),
		    "keep", keep, "remove", remove, "reasons", reasons);
		if (g == NULL || json_array_append_new(out, g) != 0)
			goto done;
	}
	text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
done:
	json_decref(out);
	return text;
}

/* ---- snapshots named one by one ---- */

void
gfsb_ops_forget_ids_fini(struct gfsb_forget_ids_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		gfsb_repo_snapshot_free(res->snaps[i]);
	free(res->snaps);
	memset(res, 0, sizeof(*res));
}

gfsb_err
gfsb_ops_forget_check(struct gfsb_ctx *ctx, size_t nids,
    const char *policy_file, const struct gfsb_policy *rules, int json,
    const char *host)
{
	int has_rules = rules != NULL && !gfsb_gfs_policy_empty(rules);

	if (nids > 0 && (policy_file != NULL || has_rules || json ||
	    host != NULL))
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "give snapshot ids or "
		    "a policy, not both");
	if (nids > 0)
		return GFSB_OK;
	if (policy_file != NULL && has_rules)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "give --policy or "
		    "rules as options, not both");
	/* An empty policy keeps nothing: never a default. */
	if (policy_file == NULL && !has_rules)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "no policy: give "
		    "--policy FILE or --keep-* rules (an empty policy would "
		    "keep nothing)");
	return GFSB_OK;
}

/* Remove one snapshot object, or count it as waiting on its lock. */
static gfsb_err
remove_named(struct gfsb_repo *r, const struct gfsb_snapshot *s,
    struct gfsb_forget_ids_result *res)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	int64_t until;
	gfsb_err e;

	if (gfsb_repo_lock_held(r, GFSB_OBJ_SNAPSHOT, s->id, &until)) {
		res->waiting++;
		if (until > res->waiting_until)
			res->waiting_until = until;
		return GFSB_OK;
	}
	e = gfsb_repo_snapshot_remove(r, s->id);
	if (e == GFSB_EDENIED) {
		gfsb_ctx_clearerr(ctx); /* the storage keeps it for now */
		res->waiting++;
		return GFSB_OK;
	}
	if (e == GFSB_OK)
		res->removed++;
	return e;
}

gfsb_err
gfsb_ops_forget_ids(struct gfsb_repo *r, const char *const *ids, size_t n,
    int dry_run, struct gfsb_forget_ids_result *res)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	struct gfsb_lock *lock = NULL;
	struct gfsb_snapshot *s;
	size_t i, j;
	gfsb_err e = GFSB_OK;

	memset(res, 0, sizeof(*res));
	if ((e = gfsb_repo_need_full(r, "forget snapshots")) != GFSB_OK)
		return e;
	if (n == 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "no snapshot named");
	if ((res->snaps = calloc(n, sizeof(*res->snaps))) == NULL)
		return GFSB_ENOMEM;
	if (!dry_run && (e = gfsb_repo_lock(r, GFSB_REPO_LOCK_PRUNE,
	    &lock)) != GFSB_OK)
		return e;
	/* Every name first: one that is wrong removes nothing. */
	for (i = 0; i < n && e == GFSB_OK; i++) {
		if ((e = gfsb_repo_snapshot_find(r, ids[i], NULL, &s)) !=
		    GFSB_OK) {
			char why[256];

			/* Its reason, and that nothing was removed. */
			snprintf(why, sizeof(why), "%s", gfsb_ctx_errmsg(ctx));
			gfsb_ctx_clearerr(ctx);
			gfsb_ctx_seterr(ctx, e, "%s: nothing removed", why[0] ?
			    why : gfsb_strerror(e));
			break;
		}
		for (j = 0; j < res->n; j++)
			if (strcmp(res->snaps[j]->id, s->id) == 0)
				break;
		if (j < res->n)
			gfsb_repo_snapshot_free(s);
		else
			res->snaps[res->n++] = s;
	}
	for (i = 0; e == GFSB_OK && !dry_run && i < res->n; i++)
		e = remove_named(r, res->snaps[i], res);
	gfsb_repo_unlock(lock);
	return e;
}
