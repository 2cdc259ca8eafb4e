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

static int
pbcmp(const void *a, const void *b)
{
	const struct gfsb_pack_blobs *x = a, *y = b;

	return memcmp(x->id, y->id, GFSB_ID_LEN);
}

/* A pack's entries by offset (qsort_r: the index is the context). */
static int
offcmp(const void *a, const void *b, void *cookie)
{
	const struct ientry *e = cookie;
	const struct ientry *x = &e[*(const uint32_t *)a];
	const struct ientry *y = &e[*(const uint32_t *)b];

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
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
	free(v); /* and gfsb_repo_index_packs' entries, in the same block */
}

/*
 * One block: the packs, then their blobs' places in the index (4 bytes
 * a blob: a repository of 10 million blobs is checked without a copy of
 * its index).  The blobs themselves are read from the index when a pack
 * needs them (gfsb_repo_pack_blobs_load).
 */
gfsb_err
gfsb_repo_index_packs(struct gfsb_repo *r, struct gfsb_pack_blobs **out,
    size_t *nout)
{
	struct rindex *x = &r->idx;
	struct gfsb_pack_blobs *v = NULL, *pb;
	uint32_t *cnt = NULL, *all, *ents;
	const struct ientry *ie;
	size_t npacks = 0, nblobs = 0, i, s;
	gfsb_err e = GFSB_ENOMEM;

	pthread_mutex_lock(&x->lock);
	if ((cnt = calloc(x->npacks + 1, sizeof(*cnt))) == NULL)
		goto out;
	for (i = 0; i < x->n; i++) {
		ie = &x->e[i];
		if (ie->pack == PACK_NONE || !x->packs[ie->pack].stored)
			continue;
		npacks += cnt[ie->pack]++ == 0;
		nblobs++;
	}
	if (npacks > 0 && (v = calloc(1, npacks * sizeof(*v) + nblobs *
	    sizeof(uint32_t))) == NULL)
		goto out;
	/* Each pack's place in v (cnt becomes it, plus one), and its
	 * share of the entries. */
	all = ents = (uint32_t *)(void *)(v + npacks);
	for (s = 0, i = 0; s < x->npacks && npacks > 0; s++) {
		if (cnt[s] == 0)
			continue;
		pb = &v[i];
		memcpy(pb->id, x->packs[s].id, GFSB_ID_LEN);
		pb->doomed_at = x->packs[s].doomed ? x->packs[s].doomed_at : 0;
		/* The header: version, count, entries; sealed; its length. */
		pb->size = ENV_OVERHEAD + 1 + 4 + 4 +
		    (uint64_t)cnt[s] * PACKHDR_ENTRY_LEN;
		pb->ents = ents;
		ents += cnt[s];
		cnt[s] = (uint32_t)++i;
	}
	for (i = 0; i < x->n; i++) {
		ie = &x->e[i];
		if (ie->pack == PACK_NONE || !x->packs[ie->pack].stored)
			continue;
		pb = &v[cnt[ie->pack] - 1];
		all[(size_t)(pb->ents - all) + pb->n++] = (uint32_t)i;
		pb->size += ie->length;
	}
	for (i = 0; i < npacks; i++)
		qsort_r(all + (v[i].ents - all), v[i].n, sizeof(uint32_t),
		    offcmp, x->e);
	pthread_mutex_unlock(&x->lock);
	if (npacks > 0)
		qsort(v, npacks, sizeof(*v), pbcmp);
	free(cnt);
	*out = v;
	*nout = npacks;
	return GFSB_OK;
out:
	pthread_mutex_unlock(&x->lock);
	free(cnt);
	free(v);
	return e;
}

gfsb_err
gfsb_repo_pack_blobs_load(struct gfsb_repo *r, struct gfsb_pack_blobs *pb)
{
	const struct ientry *ie;
	size_t j;

	if (pb->locs != NULL || pb->ents == NULL)
		return GFSB_OK;
	if ((pb->locs = malloc(pb->n * sizeof(*pb->locs))) == NULL ||
	    (pb->ids = malloc(pb->n * sizeof(*pb->ids))) == NULL) {
		gfsb_repo_pack_blobs_unload(pb);
		return GFSB_ENOMEM;
	}
	pthread_mutex_lock(&r->idx.lock);
	for (j = 0; j < pb->n; j++) {
		ie = &r->idx.e[pb->ents[j]];
		memcpy(pb->locs[j].pack, pb->id, GFSB_ID_LEN);
		pb->locs[j].offset = ie->offset;
		pb->locs[j].length = ie->length;
		pb->locs[j].raw_length = ie->raw_length;
		pb->locs[j].type = ie->type;
		pb->locs[j].flags = ie->flags;
		memcpy(pb->ids[j], ie->id, GFSB_ID_LEN);
	}
	pthread_mutex_unlock(&r->idx.lock);
	return GFSB_OK;
}

void
gfsb_repo_pack_blobs_unload(struct gfsb_pack_blobs *pb)
{
	if (pb->ents == NULL)
		return; /* not gfsb_repo_index_packs': its own */
	free(pb->locs);
	free(pb->ids);
	pb->locs = NULL;
	pb->ids = NULL;
}

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
