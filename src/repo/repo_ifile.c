/*
 * Index files as whole objects, for sync: read one (what it supersedes,
 * which packs it names) and write one naming packs taken from others.
 *
 * A mirror that keeps snapshots its source has dropped (an append-only
 * mirror, or deletions held back by Object Lock) must keep their packs
 * indexed after the source's prune supersedes the index files that named
 * them; sync writes such a file, for the mirror alone, before it copies
 * the superseding one (docs/DESIGN.md, "sync").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

void
gfsb_repo_index_file_fini(struct gfsb_index_file *f)
{
	gfsb_repo_index_packs_free(f->packs, f->npacks);
	free(f->supersedes);
	memset(f, 0, sizeof(*f));
}

/* The pack's entries as the public type, with the size they imply (the
 * same arithmetic as gfsb_repo_index_packs). */
static gfsb_err
pack_from(const struct donepack *dp, struct gfsb_pack_blobs *pb)
{
	size_t i;

	memcpy(pb->id, dp->id, GFSB_ID_LEN);
	pb->size = ENV_OVERHEAD + 1 + 4 + 4 + (uint64_t)dp->n *
	    PACKHDR_ENTRY_LEN;
	if (dp->n == 0)
		return GFSB_OK;
	if ((pb->locs = malloc(dp->n * sizeof(*pb->locs))) == NULL ||
	    (pb->ids = malloc(dp->n * sizeof(*pb->ids))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < dp->n; i++) {
		memcpy(pb->locs[i].pack, dp->id, GFSB_ID_LEN);
		pb->locs[i].offset = dp->ents[i].offset;
		pb->locs[i].length = dp->ents[i].length;
		pb->locs[i].raw_length = dp->ents[i].raw_length;
		pb->locs[i].type = dp->ents[i].type;
		pb->locs[i].flags = dp->ents[i].flags;
		memcpy(pb->ids[i], dp->ents[i].id, GFSB_ID_LEN);
		pb->size += dp->ents[i].length;
	}
	pb->n = dp->n;
	return GFSB_OK;
}

gfsb_err
gfsb_repo_index_file_read(struct gfsb_repo *r, const char *name,
    struct gfsb_index_file *out)
{
	struct gfsb_buf plain;
	struct ifile f;
	size_t i, k;
	int trust;
	gfsb_err e;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	gfsb_buf_init(&plain);
	if ((e = repo_index_obj_load(r, name, &plain, &trust)) != GFSB_OK)
		goto out;
	if ((e = repo_ifile_decode(plain.data, plain.len, &f)) != GFSB_OK) {
		if (e != GFSB_ENOMEM)
			e = gfsb_ctx_seterr(r->ctx, e, "index/%s is malformed",
			    name);
		goto out;
	}
	/* The mark is not a file: it says whose the file is. */
	out->mirror_own = repo_ifile_is_mirror_own(&f);
	for (i = k = 0; i < f.nsup; i++)
		if (memcmp(f.sup[i], MIRROR_OWN_MARK, GFSB_ID_LEN) != 0)
			memmove(f.sup[k++], f.sup[i], GFSB_ID_LEN);
	out->supersedes = f.sup;
	out->nsupersedes = k;
	f.sup = NULL;
	f.nsup = 0;
	if (f.npacks > 0 &&
	    (out->packs = calloc(f.npacks, sizeof(*out->packs))) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	for (i = 0; i < f.npacks; i++) {
		out->npacks = i + 1;
		if ((e = pack_from(&f.packs[i], &out->packs[i])) != GFSB_OK)
			goto out;
	}
out:
	repo_ifile_fini(&f);
	gfsb_buf_wipe(&plain);
	return e;
}

gfsb_err
gfsb_repo_index_file_write(struct gfsb_repo *r,
    const struct gfsb_pack_blobs *const *packs, size_t n,
    char name[GFSB_ID_HEX])
{
	struct donepack *dp = NULL;
	size_t i, j;
	gfsb_err e = GFSB_ENOMEM;

	if (n == 0)
		return gfsb_ctx_seterr(r->ctx, GFSB_EINVAL,
		    "an index file must name a pack");
	if ((dp = calloc(n, sizeof(*dp))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < n; i++) {
		memcpy(dp[i].id, packs[i]->id, GFSB_ID_LEN);
		if (packs[i]->n > 0 && (dp[i].ents = calloc(packs[i]->n,
		    sizeof(*dp[i].ents))) == NULL)
			goto out;
		for (j = 0; j < packs[i]->n; j++) {
			struct hdrent *h = &dp[i].ents[j];
			const struct gfsb_blob_loc *l = &packs[i]->locs[j];

			memcpy(h->id, packs[i]->ids[j], GFSB_ID_LEN);
			h->offset = l->offset;
			h->length = l->length;
			h->raw_length = l->raw_length;
			h->type = l->type;
			h->flags = l->flags;
		}
		dp[i].n = packs[i]->n;
	}
	e = repo_index_write_named(r, dp, n, NULL, 0,
	    (const uint8_t (*)[GFSB_ID_LEN])MIRROR_OWN_MARK, 1, name);
out:
	for (i = 0; i < n; i++)
		free(dp[i].ents);
	free(dp);
	return e;
}
