/*
 * A whole pack, as verify reads it (gfsb_repo_pack_check): the tail
 * length, the sealed header (opened with the fixed repository's key),
 * every blob (authenticated, decompressed, id checked).  The blobs to
 * check come from the pack's own header when it opens (as the index
 * would name them), else from a guess at the first blob, so that damaged
 * packs still reach blob opening.
 */
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/crypto.h>

#include "fuzz_common.h"
#include "repo/repo_internal.h"

static struct gfsb_repo *repo;
static struct gfsb_repo_io *io;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	repo = fuzz_repo();
	if (gfsb_repo_io_new(repo, &io) != GFSB_OK)
		fuzz_die("gfsb_repo_io_new");
	return 0;
}

/* The blobs the header names, or NULL. */
static struct hdrent *
header_blobs(const uint8_t *p, size_t n, size_t *nents)
{
	struct hdrent *ents = NULL;
	struct gfsb_buf plain;
	uint32_t hlen;

	if (n < 4 + ENV_OVERHEAD)
		return NULL;
	hlen = gfsb_le32_get(p + n - 4);
	if (hlen < ENV_OVERHEAD || hlen > n - 4)
		return NULL;
	gfsb_buf_init(&plain);
	if (repo_obj_open(repo, ENV_PACKHDR, "fuzz", p + n - 4 - hlen, hlen,
	    MAX_PACKHDR, &plain) == GFSB_OK &&
	    repo_pack_header_decode(repo, plain.data, plain.len, n, &ents,
	    nents) != GFSB_OK)
		ents = NULL;
	gfsb_buf_fini(&plain);
	gfsb_ctx_clearerr(gfsb_repo_ctx(repo));
	return ents;
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	struct gfsb_pack_blobs pb;
	struct gfsb_pack_check out;
	struct hdrent *ents, guess;
	size_t nents = 0, i;

	memset(&pb, 0, sizeof(pb));
	gfsb_crypto_sha256(p, n, pb.id);
	if ((ents = header_blobs(p, n, &nents)) == NULL) {
		/* One blob from the start to the tail, sizes from the input. */
		memset(&guess, 0, sizeof(guess));
		guess.length = n > 4 ? (uint32_t)(n - 4) : 0;
		guess.raw_length = n > 0 ? (uint32_t)p[0] << 8 : 0;
		guess.flags = n > 1 ? p[1] & GFSB_BLOB_F_ZSTD : 0;
		nents = 1;
		ents = &guess;
	}
	pb.n = nents;
	pb.locs = calloc(nents, sizeof(*pb.locs));
	pb.ids = calloc(nents, sizeof(*pb.ids));
	if (pb.locs == NULL || pb.ids == NULL)
		abort();
	for (i = 0; i < nents; i++) {
		memcpy(pb.locs[i].pack, pb.id, GFSB_ID_LEN);
		pb.locs[i].offset = ents[i].offset;
		pb.locs[i].length = ents[i].length;
		pb.locs[i].raw_length = ents[i].raw_length;
		pb.locs[i].type = ents[i].type;
		pb.locs[i].flags = ents[i].flags;
		memcpy(pb.ids[i], ents[i].id, GFSB_ID_LEN);
		pb.size += ents[i].length;
	}
	if (gfsb_repo_pack_check(io, &pb, p, n, &out) == GFSB_OK)
		free(out.bad);
	gfsb_ctx_clearerr(gfsb_repo_ctx(repo));
	if (ents != &guess)
		free(ents);
	free(pb.locs);
	free(pb.ids);
	return 0;
}
