/*
 * The whole path of a sealed object read with the repository's key: open
 * it (repo_obj_open: envelope header, MAC, zstd with its size cap), then
 * the decoder of its kind.  The key is the fixed repository's, so the
 * fuzzer gets past the MAC only with the seeds (expected: the plaintext
 * targets fuzz the decoders); what it can reach is the envelope checks
 * and everything before and after authentication.
 *
 * Input: an envelope ("GFSB", version, kind, flags, 0, sealed bytes), or
 * a blob as a pack holds it, preceded by what the index says of it:
 * "BLOB", id[32], type, flags, raw length (u32), then the sealed blob.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "repo/repo_internal.h"

#define BLOB_PREFIX (4 + GFSB_ID_LEN + 1 + 1 + 4)

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

static size_t
cap_of(enum env_kind kind)
{
	switch (kind) {
	case ENV_CONFIG: return MAX_CONFIG;
	case ENV_INDEX: return MAX_INDEX;
	case ENV_SNAPSHOT: return MAX_SNAPSHOT;
	case ENV_LOCK: return MAX_LOCK;
	case ENV_PACKHDR: return MAX_PACKHDR;
	}
	return 0;
}

static void
envelope(const uint8_t *p, size_t n)
{
	struct gfsb_repo_params params;
	struct gfsb_snapshot *s;
	struct hdrent *ents;
	struct gfsb_buf plain;
	enum env_kind kind = (enum env_kind)p[5];
	char id[GFSB_ID_HEX];
	uint8_t seed[GFSB_KEY_LEN];
	size_t nents;

	if (cap_of(kind) == 0)
		kind = ENV_INDEX; /* still run the checks of the header */
	gfsb_buf_init(&plain);
	if (repo_obj_open(repo, kind, "fuzz", p, n, cap_of(kind), &plain) !=
	    GFSB_OK)
		goto out;
	switch (kind) {
	case ENV_CONFIG:
		gfsb_repo_params_default(&params);
		(void)repo_config_decode(gfsb_repo_ctx(repo), plain.data,
		    plain.len, id, &params, seed);
		break;
	case ENV_INDEX:
		(void)repo_index_decode(plain.data, plain.len, NULL, NULL,
		    NULL, NULL, NULL);
		break;
	case ENV_SNAPSHOT:
		if ((s = calloc(1, sizeof(*s))) == NULL)
			break;
		(void)repo_snapshot_decode(plain.data, plain.len, s);
		gfsb_repo_snapshot_free(s);
		break;
	case ENV_LOCK:
		break; /* JSON read by repo_lock.c alone */
	case ENV_PACKHDR:
		/* Any pack size: the decoder's checks run before the
		 * size is compared. */
		if (repo_pack_header_decode(repo, plain.data, plain.len,
		    UINT32_MAX, &ents, &nents) == GFSB_OK)
			free(ents);
		break;
	}
out:
	gfsb_buf_fini(&plain);
}

static void
blob(const uint8_t *p, size_t n)
{
	struct gfsb_blob_loc loc;
	struct gfsb_tree t;
	struct gfsb_buf out;
	const uint8_t *id = p + 4;

	memset(&loc, 0, sizeof(loc));
	loc.type = p[4 + GFSB_ID_LEN];
	loc.flags = p[4 + GFSB_ID_LEN + 1];
	loc.raw_length = gfsb_le32_get(p + 4 + GFSB_ID_LEN + 2);
	loc.length = (uint32_t)(n - BLOB_PREFIX);
	gfsb_buf_init(&out);
	if (gfsb_repo_blob_open(io, &loc, id, p + BLOB_PREFIX, &out) ==
	    GFSB_OK && loc.type == GFSB_BLOB_TREE &&
	    gfsb_repo_tree_decode(out.data, out.len, &t) == GFSB_OK)
		gfsb_repo_tree_fini(&t);
	gfsb_buf_fini(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	if (n > UINT32_MAX)
		return 0;
	if (n >= 8 && memcmp(p, "GFSB", 4) == 0)
		envelope(p, n);
	else if (n >= BLOB_PREFIX && memcmp(p, "BLOB", 4) == 0)
		blob(p, n);
	gfsb_ctx_clearerr(gfsb_repo_ctx(repo));
	return 0;
}
