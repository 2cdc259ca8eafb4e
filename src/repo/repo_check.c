/*
 * repo_check: what `verify` needs from the repository that nothing else
 * does: the index grouped by pack (to know each pack's blobs and size
 * without reading it), and the check of a whole pack read from storage.
 *
 * A pack is checked three ways, each independent of the others so that
 * one flipped byte is pinned to the one blob it breaks: its SHA-256 against
 * its name, its sealed header against the index, and every blob the index
 * places in it.  Restores use the index, not the header, so the blobs are
 * checked at the index's offsets.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "repo_internal.h"

struct ent_ref {
	uint32_t pack;
	uint32_t offset;
	size_t i;
};

static int
entcmp(const void *a, const void *b)
{
	const struct ent_ref *x = a, *y = b;

	if (x->pack != y->pack)
		return x->pack < y->pack ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int
pbcmp(const void *a, const void *b)
{
	const struct gfsb_pack_blobs *x = a, *y = b;

	return memcmp(x->id, y->id, GFSB_ID_LEN);
}

void
gfsb_repo_index_packs_free(struct gfsb_pack_blobs *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].locs);
		free(v[i].ids);
	}
	free(v);
}

gfsb_err
gfsb_repo_index_packs(struct gfsb_repo *r, struct gfsb_pack_blobs **out,
    size_t *nout)
{
	struct rindex *x = &r->idx;
	struct gfsb_pack_blobs *v = NULL, *pb;
	struct ent_ref *refs = NULL;
	const struct ientry *ie;
	size_t nrefs = 0, npacks = 0, i, j, k;
	gfsb_err e = GFSB_ENOMEM;

	pthread_mutex_lock(&x->lock);
	if (x->n > 0 && (refs = malloc(x->n * sizeof(*refs))) == NULL)
		goto out;
	for (i = 0; i < x->n; i++) {
		ie = &x->e[i];
		if (ie->pack == PACK_NONE || !x->packs[ie->pack].stored)
			continue;
		refs[nrefs].pack = ie->pack;
		refs[nrefs].offset = ie->offset;
		refs[nrefs++].i = i;
	}
	if (nrefs > 0)
		qsort(refs, nrefs, sizeof(*refs), entcmp);
	for (i = 0; i < nrefs; i++)
		if (i == 0 || refs[i].pack != refs[i - 1].pack)
			npacks++;
	if (npacks > 0 && (v = calloc(npacks, sizeof(*v))) == NULL)
		goto out;
	for (i = 0, k = 0; i < nrefs; i = j, k++) {
		for (j = i; j < nrefs && refs[j].pack == refs[i].pack; j++)
			;
		pb = &v[k];
		memcpy(pb->id, x->packs[refs[i].pack].id, GFSB_ID_LEN);
		pb->doomed_at = x->packs[refs[i].pack].doomed ?
		    x->packs[refs[i].pack].doomed_at : 0;
		if ((pb->locs = malloc((j - i) * sizeof(*pb->locs))) == NULL ||
		    (pb->ids = malloc((j - i) * sizeof(*pb->ids))) == NULL)
			goto out;
		/* The header: version, count, entries; sealed; its length. */
		pb->size = ENV_OVERHEAD + 1 + 4 + 4 +
		    (uint64_t)(j - i) * PACKHDR_ENTRY_LEN;
		for (; i < j; i++) {
			ie = &x->e[refs[i].i];
			memcpy(pb->locs[pb->n].pack, pb->id, GFSB_ID_LEN);
			pb->locs[pb->n].offset = ie->offset;
			pb->locs[pb->n].length = ie->length;
			pb->locs[pb->n].raw_length = ie->raw_length;
			pb->locs[pb->n].type = ie->type;
			pb->locs[pb->n].flags = ie->flags;
			memcpy(pb->ids[pb->n], ie->id, GFSB_ID_LEN);
			pb->size += ie->length;
			pb->n++;
		}
	}
	pthread_mutex_unlock(&x->lock);
	if (npacks > 0)
		qsort(v, npacks, sizeof(*v), pbcmp);
	free(refs);
	*out = v;
	*nout = npacks;
	return GFSB_OK;
out:
	pthread_mutex_unlock(&x->lock);
	free(refs);
	gfsb_repo_index_packs_free(v, npacks);
	return e;
}

/* Does the header (opened and decoded) name exactly the index's blobs? */
static int
header_matches(const struct gfsb_pack_blobs *pb, const struct hdrent *h,
    size_t nh)
{
	size_t i;

	if (nh != pb->n)
		return 0;
	for (i = 0; i < nh; i++)
		if (h[i].offset != pb->locs[i].offset ||
		    h[i].length != pb->locs[i].length ||
		    h[i].raw_length != pb->locs[i].raw_length ||
		    h[i].type != pb->locs[i].type ||
		    h[i].flags != pb->locs[i].flags ||
		    memcmp(h[i].id, pb->ids[i], GFSB_ID_LEN) != 0)
			return 0;
	return 1;
}

static gfsb_err
check_header(struct gfsb_repo *r, const struct gfsb_pack_blobs *pb,
    const uint8_t *data, size_t len, struct gfsb_pack_check *out)
{
	struct hdrent *ents = NULL;
	struct gfsb_buf plain;
	char name[GFSB_ID_HEX];
	size_t nents = 0;
	uint32_t hlen;
	gfsb_err e;

	gfsb_buf_init(&plain);
	gfsb_hex_encode(pb->id, GFSB_ID_LEN, name);
	if (len < 4 + ENV_OVERHEAD) {
		snprintf(out->header_why, sizeof(out->header_why),
		    "too short for a header");
		return GFSB_OK;
	}
	hlen = gfsb_le32_get(data + len - 4);
	if (hlen < ENV_OVERHEAD || hlen > len - 4) {
		snprintf(out->header_why, sizeof(out->header_why),
		    "header length %u is impossible", hlen);
		return GFSB_OK;
	}
	e = repo_obj_open(r, ENV_PACKHDR, name, data + len - 4 - hlen, hlen,
	    MAX_PACKHDR, &plain);
	if (e == GFSB_OK)
		e = repo_pack_header_decode(r, plain.data, plain.len, len,
		    &ents, &nents);
	if (e == GFSB_ENOMEM)
		goto out;
	if (e != GFSB_OK)
		snprintf(out->header_why, sizeof(out->header_why),
		    "header does not open or decode");
	else if (!header_matches(pb, ents, nents))
		snprintf(out->header_why, sizeof(out->header_why),
		    "header does not match the index");
	else
		out->header_ok = 1;
	e = GFSB_OK;
out:
	free(ents);
	gfsb_buf_wipe(&plain);
	return e;
}

gfsb_err
gfsb_repo_pack_check(struct gfsb_repo_io *io, const struct gfsb_pack_blobs *pb,
    const uint8_t *data, size_t len, struct gfsb_pack_check *out)
{
	struct gfsb_repo *r = io->r;
	uint8_t sum[GFSB_ID_LEN];
	struct gfsb_buf plain;
	size_t i;
	gfsb_err e;

	memset(out, 0, sizeof(*out));
	gfsb_buf_init(&plain);
	gfsb_crypto_sha256(data, len, sum);
	out->name_ok = memcmp(sum, pb->id, GFSB_ID_LEN) == 0;
	if ((e = check_header(r, pb, data, len, out)) != GFSB_OK)
		goto out;
	for (i = 0; i < pb->n; i++) {
		if ((uint64_t)pb->locs[i].offset + pb->locs[i].length <= len) {
			e = gfsb_repo_blob_open(io, &pb->locs[i], pb->ids[i],
			    data + pb->locs[i].offset, &plain);
			if (e == GFSB_ENOMEM)
				goto out;
			if (e == GFSB_OK)
				continue;
		}
		if (out->nbad == 0 &&
		    (out->bad = malloc(pb->n * sizeof(*out->bad))) == NULL) {
			e = GFSB_ENOMEM;
			goto out;
		}
		out->bad[out->nbad++] = i;
	}
	e = GFSB_OK;
out:
	if (e != GFSB_OK) {
		free(out->bad);
		out->bad = NULL;
		out->nbad = 0;
	}
	gfsb_buf_wipe(&plain);
	return e;
}
