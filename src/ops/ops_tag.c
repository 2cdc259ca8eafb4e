/*
 * tag: add, remove or set the tags of snapshots.  A snapshot object is
 * sealed and named by its content, so changing its tags writes a new
 * one (with "original", restic's field, naming the first snapshot it
 * replaced) and then removes the old.  Everything is checked before the
 * first write: a name that is wrong, a bad tag, or a snapshot its Object
 * Lock still holds changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"
#include "ops_line.h"

/* Is t in v? */
static int
has(const char *const *v, size_t n, const char *t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], t) == 0)
			return 1;
	return 0;
}

/* Append a copy of t to *v unless it is there. */
static gfsb_err
add(char ***v, size_t *n, const char *t)
{
	char **grown;

	if (has((const char *const *)*v, *n, t))
		return GFSB_OK;
	if ((grown = realloc(*v, (*n + 1) * sizeof(*grown))) == NULL)
		return GFSB_ENOMEM;
	*v = grown;
	if ((grown[*n] = strdup(t)) == NULL)
		return GFSB_ENOMEM;
	(*n)++;
	return GFSB_OK;
}

static void
strv_free(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/* The tags s would have under o, into *out (in order: kept, then added). */
static gfsb_err
new_tags(const struct gfsb_snapshot *s, const struct gfsb_tag_opts *o,
    char ***out, size_t *n)
{
	size_t i;
	gfsb_err e = GFSB_OK;

	*out = NULL;
	*n = 0;
	if (o->has_set) {
		for (i = 0; i < o->nset && e == GFSB_OK; i++)
			e = add(out, n, o->set[i]);
		return e;
	}
	for (i = 0; i < s->ntags && e == GFSB_OK; i++)
		if (!has(o->remove, o->nremove, s->tags[i]))
			e = add(out, n, s->tags[i]);
	for (i = 0; i < o->nadd && e == GFSB_OK; i++)
		e = add(out, n, o->add[i]);
	return e;
}

/* The same tags, in any order? */
static int
same_tags(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (!has((const char *const *)b, nb, a[i]))
			return 0;
	return 1;
}

gfsb_err
gfsb_ops_tag_check(struct gfsb_ctx *ctx, const struct gfsb_tag_opts *o)
{
	const char *const *lists[3] = { o->add, o->remove, o->set };
	size_t counts[3] = { o->nadd, o->nremove, o->nset }, k, i;

	if (o->has_set && o->nadd + o->nremove > 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "give --set, or --add "
		    "and --remove: not both");
	if (!o->has_set && o->nadd + o->nremove == 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "nothing to do: give "
		    "--add, --remove or --set");
	for (k = 0; k < 3; k++)
		for (i = 0; i < counts[k]; i++)
			if (lists[k][i][0] == '\0' ||
			    strchr(lists[k][i], ',') != NULL)
				return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
				    "invalid tag \"%s\"", lists[k][i]);
	return GFSB_OK;
}

/* The snapshots o names, each once; none held by its Object Lock. */
static gfsb_err
pick(struct gfsb_repo *r, const struct gfsb_tag_opts *o,
    struct gfsb_snapshot ***v, size_t *n)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	char when[64];
	int64_t until;
	size_t i, j, k = 0;
	gfsb_err e;

	if ((e = ops_snapshots_pick(r, o->ids, o->nids, o->host, v, n)) !=
	    GFSB_OK)
		return e;
	for (i = 0; i < *n; i++) {
		for (j = 0; j < k && strcmp((*v)[j]->id, (*v)[i]->id) != 0; j++)
			;
		if (j < k) {
			gfsb_repo_snapshot_free((*v)[i]);
			continue;
		}
		(*v)[k++] = (*v)[i];
	}
	*n = k;
	for (i = 0; i < *n; i++) {
		if (!gfsb_repo_lock_held(r, GFSB_OBJ_SNAPSHOT, (*v)[i]->id,
		    &until))
			continue;
		gfsb_time_format_local(&(struct gfsb_time){ until, 0 }, when,
		    sizeof(when));
		return gfsb_ctx_seterr(ctx, GFSB_EDENIED, "snapshot %.8s is "
		    "held by its Object Lock until %s: its tags cannot change "
		    "before then (nothing changed)", (*v)[i]->id, when);
	}
	return GFSB_OK;
}

/* Rewrite s with tags (c takes them and s's old ones), then remove the
 * old object. */
static gfsb_err
rewrite(struct gfsb_repo *r, struct gfsb_snapshot *s, char **tags,
    size_t ntags, struct gfsb_tag_change *c)
{
	gfsb_err e;

	snprintf(c->old_id, sizeof(c->old_id), "%s", s->id);
	c->before = s->tags;
	c->nbefore = s->ntags;
	c->after = tags;
	c->nafter = ntags;
	if (s->original[0] == '\0')
		snprintf(s->original, sizeof(s->original), "%s", s->id);
	/* Saved with the new tags, which s only borrows. */
	s->tags = tags;
	s->ntags = ntags;
	e = gfsb_repo_snapshot_save(r, s);
	s->tags = NULL;
	s->ntags = 0;
	if (e != GFSB_OK)
		return e;
	snprintf(c->new_id, sizeof(c->new_id), "%s", s->id);
	/* The new one is stored: the old may go. */
	return gfsb_repo_snapshot_remove(r, c->old_id);
}

gfsb_err
gfsb_ops_tag(struct gfsb_repo *r, const struct gfsb_tag_opts *o,
    struct gfsb_tag_result *res)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	struct gfsb_snapshot **v = NULL;
	struct gfsb_lock *lock = NULL;
	struct gfsb_tag_change *c;
	char **tags;
	size_t n = 0, i, ntags;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	if ((e = gfsb_repo_need_full(r, "change tags")) != GFSB_OK ||
	    (e = gfsb_ops_tag_check(ctx, o)) != GFSB_OK)
		return e;
	if (!o->dry_run && (e = gfsb_repo_lock(r, GFSB_REPO_LOCK_PRUNE,
	    &lock)) != GFSB_OK)
		return e;
	if ((e = pick(r, o, &v, &n)) != GFSB_OK)
		goto out;
	if ((res->changed = calloc(n ? n : 1, sizeof(*res->changed))) ==
	    NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	for (i = 0; i < n && e == GFSB_OK; i++) {
		if ((e = new_tags(v[i], o, &tags, &ntags)) != GFSB_OK) {
			strv_free(tags, ntags);
			break;
		}
		if (same_tags(tags, ntags, v[i]->tags, v[i]->ntags)) {
			strv_free(tags, ntags);
			res->unchanged++;
			continue;
		}
		c = &res->changed[res->nchanged++];
		if (o->dry_run) {
			snprintf(c->old_id, sizeof(c->old_id), "%s", v[i]->id);
			c->before = v[i]->tags;
			c->nbefore = v[i]->ntags;
			v[i]->tags = NULL;
			v[i]->ntags = 0;
			c->after = tags;
			c->nafter = ntags;
			continue;
		}
		e = rewrite(r, v[i], tags, ntags, c);
	}
out:
	gfsb_repo_snapshot_list_free(v, n);
	gfsb_repo_unlock(lock);
	return e;
}

void
gfsb_ops_tag_fini(struct gfsb_tag_result *res)
{
	size_t i;

	for (i = 0; i < res->nchanged; i++) {
		strv_free(res->changed[i].before, res->changed[i].nbefore);
		strv_free(res->changed[i].after, res->changed[i].nafter);
	}
	free(res->changed);
	memset(res, 0, sizeof(*res));
}

/* "a,b" (or "no tags") into the line being built. */
static void
put_tags(struct ops_lines *o, char *const *v, size_t n)
{
	size_t i;

	if (n == 0)
		ops_line_add(o, "no tags");
	for (i = 0; i < n; i++)
		ops_line_add(o, "%s%s", i ? "," : "", v[i]);
}

gfsb_err
gfsb_ops_tag_lines(const struct gfsb_tag_result *res, int dry_run,
    gfsb_ops_line_fn *fn, void *cookie)
{
	const struct gfsb_tag_change *c;
	struct ops_lines o;
	size_t i;

	ops_line_init(&o, fn, cookie);
	for (i = 0; i < res->nchanged; i++) {
		c = &res->changed[i];
		if (dry_run)
			ops_line_add(&o, "would change snapshot %.8s: ",
			    c->old_id);
		else
			ops_line_add(&o, "snapshot %.8s is now %.8s: ",
			    c->old_id, c->new_id);
		put_tags(&o, c->after, c->nafter);
		ops_line_add(&o, " (was: ");
		put_tags(&o, c->before, c->nbefore);
		ops_line_add(&o, ")");
		ops_line_end(&o, GFSB_OPS_LINE_RESULT);
	}
	ops_line_put(&o, "%s %zu snapshot%s, %zu already as asked",
	    dry_run ? "would change the tags of" : "changed the tags of",
	    res->nchanged, res->nchanged == 1 ? "" : "s", res->unchanged);
	return ops_line_fini(&o);
}
