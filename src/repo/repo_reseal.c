/*
 * The index written again under mkey.  A repository that becomes version
 * 2 keeps its index files sealed under enc, which write-only keys cannot
 * open: the first backup of such a key would store again everything
 * already stored (a terabyte, for a repository of one).  So the index as
 * it stands is rewritten by a full key, under mkey and signed: the same
 * entries (a blob stored twice included) and the same marks for deletion
 * with their dates, the last new file superseding every old one, which
 * then go (as prune's new index does: repo_index_replace, then
 * repo_index_remove_old).  Crash-safe the same way: until the last new
 * file is stored the old ones count; after, the new ones do.
 */
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/repo.h>

#include "repo_internal.h"

/* The index read afresh (under the caller's exclusive lock). */
static gfsb_err
reload(struct gfsb_repo *r)
{
	gfsb_err e;

	rindex_fini(&r->idx);
	if ((e = rindex_init(&r->idx)) != GFSB_OK)
		return e;
	r->index_loaded = 0;
	return gfsb_repo_index_load(r);
}

/*
 * Each pack's entries, into ents (grouped: pack s's are ents[start[s] ..
 * start[s + 1])), and its place among the live packs or the doomed ones.
 */
static gfsb_err
group(struct gfsb_repo *r, struct hdrent *ents, size_t *start,
    struct donepack *live, size_t *nlive, struct donepack *doomed,
    size_t *ndoomed)
{
	const struct rindex *x = &r->idx;
	size_t i, s, *fill;
	struct donepack *d;

	if ((fill = calloc(x->npacks + 1, sizeof(*fill))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < x->n; i++)
		if (x->e[i].pack != PACK_NONE)
			start[x->e[i].pack + 1]++;
	for (s = 0; s < x->npacks; s++)
		start[s + 1] += start[s];
	for (i = 0; i < x->n; i++) {
		const struct ientry *e = &x->e[i];
		struct hdrent *h;

		if (e->pack == PACK_NONE)
			continue;
		h = &ents[start[e->pack] + fill[e->pack]++];
		memcpy(h->id, e->id, GFSB_ID_LEN);
		h->offset = e->offset;
		h->length = e->length;
		h->raw_length = e->raw_length;
		h->type = e->type;
		h->flags = e->flags;
	}
	free(fill);
	*nlive = *ndoomed = 0;
	for (s = 0; s < x->npacks; s++) {
		if (!x->packs[s].stored ||
		    (!x->packs[s].doomed && start[s + 1] == start[s]))
			continue;
		d = x->packs[s].doomed ? &doomed[(*ndoomed)++] :
		    &live[(*nlive)++];
		memcpy(d->id, x->packs[s].id, GFSB_ID_LEN);
		d->ents = ents + start[s];
		d->n = start[s + 1] - start[s];
		d->at = x->packs[s].doomed ? x->packs[s].doomed_at : 0;
	}
	return GFSB_OK;
}

gfsb_err
gfsb_repo_index_reseal(struct gfsb_repo *r, uint64_t *written,
    uint64_t *removed)
{
	struct donepack *live = NULL, *doomed = NULL;
	struct hdrent *ents = NULL;
	size_t *start = NULL, nlive, ndoomed, np;
	gfsb_err e;

	*written = *removed = 0;
	if ((e = repo_need_full(r, "rewrite the index")) != GFSB_OK)
		return e;
	if (r->reader == NULL || (e = reload(r)) != GFSB_OK ||
	    r->index_enc == 0)
		return e;
	np = r->idx.npacks;
	e = GFSB_ENOMEM;
	if ((ents = malloc((r->idx.n + 1) * sizeof(*ents))) == NULL ||
	    (start = calloc(np + 2, sizeof(*start))) == NULL ||
	    (live = calloc(np + 1, sizeof(*live))) == NULL ||
	    (doomed = calloc(np + 1, sizeof(*doomed))) == NULL)
		goto out;
	if ((e = group(r, ents, start, live, &nlive, doomed, &ndoomed)) !=
	    GFSB_OK)
		goto out;
	r->no_auto_index = 1;
	if ((e = repo_index_replace(r, live, nlive, doomed, ndoomed,
	    written)) == GFSB_OK &&
	    (e = repo_index_remove_old(r, removed)) == GFSB_OK)
		e = reload(r);
	r->no_auto_index = 0;
out:
	free(ents);
	free(start);
	free(live);
	free(doomed);
	return e;
}
