/* repo: the format round trips, and every decoder refuses truncated,
 * garbage or hostile input with an error instead of a crash (run under
 * ASan+UBSan in CI).  Uses the in-memory backend. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/util.h>

#include "repo/repo_internal.h"

#define PASS "correct horse battery staple"

struct fx {
	struct gfsb_ctx *ctx;
	struct gfsb_backend *be;
	struct gfsb_repo *r;
};

static void
params(struct gfsb_repo_params *p)
{
	gfsb_repo_params_default(p);
	p->kdf_ops = 1;		/* fast tests; the format is the same */
	p->kdf_mem = 8 << 20;
	p->pack_size = 1 << 20;
	p->chunk.min = 1024;
	p->chunk.avg = 4096;
	p->chunk.max = 16384;
}

static int
setup(void **state)
{
	struct gfsb_repo_params p;
	struct fx *f = calloc(1, sizeof(*f));

	params(&p);
	if (f == NULL || gfsb_ctx_new(&f->ctx) != GFSB_OK ||
	    gfsb_backend_mem_new(f->ctx, &f->be) != GFSB_OK ||
	    gfsb_repo_init(f->ctx, f->be, PASS, strlen(PASS), &p, &f->r) !=
	    GFSB_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	gfsb_repo_close(f->r);
	gfsb_backend_close(f->be);
	gfsb_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* Reopen the repository from the backend, as a new process would. */
static struct gfsb_repo *
reopen(struct fx *f)
{
	struct gfsb_repo *r;

	assert_int_equal(gfsb_repo_open(f->ctx, f->be, PASS, strlen(PASS),
	    &r), GFSB_OK);
	return r;
}

struct names {
	char v[64][GFSB_ID_HEX];
	int n;
};

static gfsb_err
collect(void *cookie, const char *name, uint64_t size)
{
	struct names *ns = cookie;

	(void)size;
	if (ns->n < 64)
		snprintf(ns->v[ns->n++], GFSB_ID_HEX, "%s", name);
	return GFSB_OK;
}

static void
list(struct fx *f, enum gfsb_obj type, struct names *ns)
{
	ns->n = 0;
	assert_int_equal(gfsb_backend_list(f->be, type, collect, ns), GFSB_OK);
}

/* Flip one bit of a stored object in place. */
static void
flip(struct fx *f, enum gfsb_obj type, const char *name, size_t off)
{
	struct gfsb_buf b;

	gfsb_buf_init(&b);
	assert_int_equal(gfsb_backend_get(f->be, type, name, &b), GFSB_OK);
	b.data[off % b.len] ^= 0x10;
	assert_int_equal(gfsb_backend_put(f->be, type, name, b.data, b.len),
	    GFSB_OK);
	gfsb_buf_fini(&b);
}

static void
test_open_and_passphrases(void **state)
{
	struct fx *f = *state;
	struct gfsb_repo *r;
	struct gfsb_backend *empty;
	struct gfsb_repo_params p;
	struct gfsb_key_info *keys;
	struct names ns;
	size_t n;

	r = reopen(f);
	assert_string_equal(gfsb_repo_id(r), gfsb_repo_id(f->r));
	gfsb_repo_close(r);
	assert_int_equal(gfsb_repo_open(f->ctx, f->be, "wrong", 5, &r),
	    GFSB_EAUTH);
	gfsb_ctx_clearerr(f->ctx);
	/* A second init on the same location is refused. */
	params(&p);
	assert_int_equal(gfsb_repo_init(f->ctx, f->be, PASS, strlen(PASS), &p,
	    &r), GFSB_EEXIST);
	gfsb_ctx_clearerr(f->ctx);
	/* No repository: a distinct error, before any passphrase work. */
	assert_int_equal(gfsb_backend_mem_new(f->ctx, &empty), GFSB_OK);
	assert_int_equal(gfsb_repo_probe(f->ctx, empty), GFSB_ENOREPO);
	assert_int_equal(gfsb_repo_open(f->ctx, empty, PASS, strlen(PASS), &r),
	    GFSB_ENOREPO);
	gfsb_ctx_clearerr(f->ctx);
	/* Invalid parameters are refused at init. */
	p.chunk.avg = 3000;
	assert_int_equal(gfsb_repo_init(f->ctx, empty, PASS, strlen(PASS), &p,
	    &r), GFSB_EINVAL);
	gfsb_backend_close(empty);
	gfsb_ctx_clearerr(f->ctx);

	/* Change the passphrase: the old one stops working. */
	assert_int_equal(gfsb_repo_key_passwd(f->r, "new pass", 8), GFSB_OK);
	assert_int_equal(gfsb_repo_open(f->ctx, f->be, PASS, strlen(PASS), &r),
	    GFSB_EAUTH);
	gfsb_ctx_clearerr(f->ctx);
	assert_int_equal(gfsb_repo_open(f->ctx, f->be, "new pass", 8, &r),
	    GFSB_OK);
	/* Add a key: both work; still one key file per passphrase. */
	assert_int_equal(gfsb_repo_key_add(r, PASS, strlen(PASS), 1, 8 << 20,
	    NULL), GFSB_OK);
	gfsb_repo_close(r);
	r = reopen(f);
	assert_int_equal(gfsb_repo_key_list(r, &keys, &n), GFSB_OK);
	assert_int_equal(n, 2);
	assert_true(keys[0].current + keys[1].current == 1);
	free(keys);
	gfsb_repo_close(r);
	list(f, GFSB_OBJ_KEY, &ns);
	assert_int_equal(ns.n, 2);
}

/* The index in memory, loaded: at most 64 bytes a blob (issue 16), not
 * the doubled array's slack. */
static void
test_index_memory(void **state)
{
	struct fx *f = *state;
	struct gfsb_repo_io *io;
	struct gfsb_repo *r2;
	uint8_t id[GFSB_ID_LEN];
	size_t i, blobs, bytes;
	uint32_t v;
	int added;

	assert_int_equal(gfsb_repo_io_new(f->r, &io), GFSB_OK);
	for (i = 0; i < 100000; i++) {
		v = (uint32_t)i;
		assert_int_equal(gfsb_repo_blob_write(io, GFSB_BLOB_DATA,
		    (const uint8_t *)&v, sizeof(v), id, 0, &added), GFSB_OK);
	}
	gfsb_repo_io_free(io);
	assert_int_equal(gfsb_repo_flush(f->r), GFSB_OK);
	assert_int_equal(gfsb_repo_open(f->ctx, f->be, PASS, strlen(PASS),
	    &r2), GFSB_OK);
	assert_int_equal(gfsb_repo_index_load(r2), GFSB_OK);
	gfsb_repo_index_memory(r2, &blobs, &bytes);
	assert_int_equal(blobs, 100000);
	if (bytes > 64 * blobs || bytes < 52 * blobs)
		fail_msg("%zu bytes for %zu blobs: %.1f a blob", bytes, blobs,
		    (double)bytes / (double)blobs);
	gfsb_repo_close(r2);
}

static void
test_key_file_tampering(void **state)
{
	struct fx *f = *state;
	struct gfsb_repo *r;
	struct names ns;

	list(f, GFSB_OBJ_KEY, &ns);
	assert_int_equal(ns.n, 1);
	/* Any change to a key file: it no longer opens (its name is its
	 * hash, and the sealed keys are authenticated). */
	flip(f, GFSB_OBJ_KEY, ns.v[0], 40);
	assert_int_not_equal(gfsb_repo_open(f->ctx, f->be, PASS, strlen(PASS),
	    &r), GFSB_OK);
	gfsb_ctx_clearerr(f->ctx);
}

static void
test_config_tampering(void **state)
{
	struct fx *f = *state;
	struct gfsb_repo *r;

	flip(f, GFSB_OBJ_CONFIG, "config", 50);
	assert_int_equal(gfsb_repo_open(f->ctx, f->be, PASS, strlen(PASS), &r),
	    GFSB_ECORRUPT);
	gfsb_ctx_clearerr(f->ctx);
}

static void
test_blobs_round_trip(void **state)
{
	struct fx *f = *state;
	struct gfsb_repo_io *io;
	struct gfsb_repo *r2;
	struct gfsb_buf out;
	struct gfsb_repo_stats st;
	struct names ns;
	uint8_t data[3][20000], id[3][GFSB_ID_LEN], idx[GFSB_ID_LEN];
	int added, i;

	gfsb_buf_init(&out);
	for (i = 0; i < 3; i++)
		memset(data[i], 'a' + i, sizeof(data[i]));
	gfsb_crypto_random(data[2], sizeof(data[2])); /* incompressible */
	assert_int_equal(gfsb_repo_io_new(f->r, &io), GFSB_OK);
	for (i = 0; i < 3; i++) {
		assert_int_equal(gfsb_repo_blob_write(io, GFSB_BLOB_DATA,
		    data[i], sizeof(data[i]), id[i], 0, &added), GFSB_OK);
		assert_int_equal(added, 1);
	}
	/* Deduplicated within the session, before anything is stored. */
	assert_int_equal(gfsb_repo_blob_write(io, GFSB_BLOB_DATA, data[0],
	    sizeof(data[0]), idx, 0, &added), GFSB_OK);
	assert_int_equal(added, 0);
	assert_memory_equal(idx, id[0], GFSB_ID_LEN);
	/* Not findable until its pack is stored. */
	assert_int_equal(gfsb_repo_index_lookup(f->r, GFSB_BLOB_DATA, id[0],
	    NULL), GFSB_ENOTFOUND);
	assert_int_equal(gfsb_repo_flush(f->r), GFSB_OK);
	gfsb_repo_stats_get(f->r, &st);
	assert_true(st.blobs_added[GFSB_BLOB_DATA] == 3);
	assert_true(st.stored_added[GFSB_BLOB_DATA] < 2 * 20000 + 20000 + 500);
	assert_true(st.packs_written == 1 && st.index_files == 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(gfsb_repo_blob_read(io, GFSB_BLOB_DATA, id[i],
		    &out), GFSB_OK);
		assert_int_equal(out.len, sizeof(data[i]));
		assert_memory_equal(out.data, data[i], out.len);
	}
	/* The same bytes as a tree are a different blob. */
	assert_int_equal(gfsb_repo_blob_read(io, GFSB_BLOB_TREE, id[0], &out),
	    GFSB_ENOTFOUND);
	gfsb_ctx_clearerr(f->ctx);
	gfsb_repo_io_free(io);

	/* Another process sees them through the index. */
	r2 = reopen(f);
	assert_int_equal(gfsb_repo_index_load(r2), GFSB_OK);
	assert_int_equal(gfsb_repo_index_count(r2), 3);
	assert_int_equal(gfsb_repo_io_new(r2, &io), GFSB_OK);
	assert_int_equal(gfsb_repo_blob_read(io, GFSB_BLOB_DATA, id[1], &out),
	    GFSB_OK);
	assert_memory_equal(out.data, data[1], sizeof(data[1]));
	/* And a flipped bit in the pack is caught, naming the pack. */
	list(f, GFSB_OBJ_PACK, &ns);
	assert_int_equal(ns.n, 1);
	flip(f, GFSB_OBJ_PACK, ns.v[0], 100);
	for (i = 0, added = 0; i < 3; i++)
		if (gfsb_repo_blob_read(io, GFSB_BLOB_DATA, id[i], &out) ==
		    GFSB_ECORRUPT)
			added++;
	assert_int_equal(added, 1);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), ns.v[0]));
	gfsb_ctx_clearerr(f->ctx);
	gfsb_repo_io_free(io);
	gfsb_repo_close(r2);
	gfsb_buf_fini(&out);
}

/* Packs fill up and split; headers decode; damaged headers are refused. */
static void
test_packs_and_headers(void **state)
{
	struct fx *f = *state;
	struct gfsb_repo_io *io;
	struct names ns;
	struct hdrent *ents;
	struct gfsb_buf raw, plain;
	uint8_t *blob = malloc(300000), id[GFSB_ID_LEN];
	size_t nents, cut, total = 0;
	uint64_t size;
	uint32_t hlen;
	int added, i, j;

	gfsb_buf_init(&raw);
	gfsb_buf_init(&plain);
	assert_int_equal(gfsb_repo_io_new(f->r, &io), GFSB_OK);
	for (i = 0; i < 8; i++) {
		gfsb_crypto_random(blob, 300000);
		assert_int_equal(gfsb_repo_blob_write(io, GFSB_BLOB_DATA, blob,
		    300000, id, 0, &added), GFSB_OK);
	}
	assert_int_equal(gfsb_repo_flush(f->r), GFSB_OK);
	list(f, GFSB_OBJ_PACK, &ns);
	assert_true(ns.n >= 2); /* 2.4 MB of blobs in 1 MiB packs */
	for (i = 0; i < ns.n; i++) {
		assert_int_equal(gfsb_backend_stat(f->be, GFSB_OBJ_PACK,
		    ns.v[i], &size), GFSB_OK);
		assert_true(size <= (1 << 20) + 4096);
		assert_int_equal(repo_pack_read_header(f->r, ns.v[i], size,
		    &ents, &nents), GFSB_OK);
		total += nents;
		free(ents);
	}
	assert_int_equal(total, 8);

	/* Decode the header plaintext of one pack after every truncation
	 * and many bit flips: errors, never crashes. */
	raw.len = 0;
	assert_int_equal(gfsb_backend_get(f->be, GFSB_OBJ_PACK, ns.v[0], &raw),
	    GFSB_OK);
	hlen = gfsb_le32_get(raw.data + raw.len - 4);
	assert_int_equal(repo_obj_open(f->r, ENV_PACKHDR, "test",
	    raw.data + raw.len - 4 - hlen, hlen, MAX_PACKHDR, &plain),
	    GFSB_OK);
	for (cut = 0; cut < plain.len; cut++) {
		assert_int_equal(repo_pack_header_decode(f->r, plain.data,
		    cut, raw.len, &ents, &nents), GFSB_ECORRUPT);
	}
	for (j = 0; j < (int)plain.len * 8; j += 7) {
		plain.data[j / 8] ^= (uint8_t)(1 << (j % 8));
		if (repo_pack_header_decode(f->r, plain.data, plain.len,
		    raw.len, &ents, &nents) == GFSB_OK)
			free(ents);
		plain.data[j / 8] ^= (uint8_t)(1 << (j % 8));
	}
	/* A pack truncated or with a bad length field is refused. */
	assert_int_equal(gfsb_backend_put(f->be, GFSB_OBJ_PACK, ns.v[0],
	    raw.data, raw.len - 1), GFSB_OK);
	assert_int_equal(repo_pack_read_header(f->r, ns.v[0], raw.len - 1,
	    &ents, &nents), GFSB_ECORRUPT);
	gfsb_le32_put(raw.data + raw.len - 4, 0xffffffff);
	assert_int_equal(gfsb_backend_put(f->be, GFSB_OBJ_PACK, ns.v[0],
	    raw.data, raw.len), GFSB_OK);
	assert_int_equal(repo_pack_read_header(f->r, ns.v[0], raw.len, &ents,
	    &nents), GFSB_ECORRUPT);
	gfsb_ctx_clearerr(f->ctx);
	gfsb_repo_io_free(io);
	gfsb_buf_fini(&raw);
	gfsb_buf_fini(&plain);
	free(blob);
}

/* Packs stored without an index (a backup killed -9) are recovered. */
static void
test_pack_recovery(void **state)
{
	struct fx *f = *state;
	struct gfsb_repo_io *io;
	struct gfsb_repo *r2;
	struct gfsb_buf out;
	struct names ns;
	uint8_t blob[5000], id[GFSB_ID_LEN];
	size_t count;
	int added, i;

	gfsb_buf_init(&out);
	assert_int_equal(gfsb_repo_io_new(f->r, &io), GFSB_OK);
	gfsb_crypto_random(blob, sizeof(blob));
	assert_int_equal(gfsb_repo_blob_write(io, GFSB_BLOB_DATA, blob,
	    sizeof(blob), id, 0, &added), GFSB_OK);
	assert_int_equal(gfsb_repo_flush(f->r), GFSB_OK);
	gfsb_repo_io_free(io);
	list(f, GFSB_OBJ_INDEX, &ns);
	for (i = 0; i < ns.n; i++)
		assert_int_equal(gfsb_backend_remove(f->be, GFSB_OBJ_INDEX,
		    ns.v[i]), GFSB_OK);

	r2 = reopen(f);
	assert_int_equal(gfsb_repo_index_load(r2), GFSB_OK);
	assert_int_equal(gfsb_repo_index_count(r2), 0);
	assert_int_equal(gfsb_repo_pack_recover(r2, &count), GFSB_OK);
	assert_int_equal(count, 1);
	assert_int_equal(gfsb_repo_io_new(r2, &io), GFSB_OK);
	assert_int_equal(gfsb_repo_blob_read(io, GFSB_BLOB_DATA, id, &out),
	    GFSB_OK);
	assert_memory_equal(out.data, blob, sizeof(blob));
	/* Re-writing the blob is a duplicate: nothing is stored twice. */
	assert_int_equal(gfsb_repo_blob_write(io, GFSB_BLOB_DATA, blob,
	    sizeof(blob), id, 0, &added), GFSB_OK);
	assert_int_equal(added, 0);
	/* The flush names the recovered pack in a new index. */
	assert_int_equal(gfsb_repo_flush(r2), GFSB_OK);
	list(f, GFSB_OBJ_INDEX, &ns);
	assert_int_equal(ns.n, 1);
	gfsb_repo_io_free(io);
	gfsb_repo_close(r2);
	r2 = reopen(f);
	assert_int_equal(gfsb_repo_index_load(r2), GFSB_OK);
	assert_int_equal(gfsb_repo_index_count(r2), 1);
	assert_int_equal(gfsb_repo_pack_recover(r2, &count), GFSB_OK);
	assert_int_equal(count, 0);
	gfsb_repo_close(r2);
	gfsb_buf_fini(&out);
}

/* known[n] = the one name in ns that is not in known[0..n). */
static void
new_name(const struct names *ns, char (*known)[GFSB_ID_HEX], int n)
{
	int i, j, found = 0;

	for (i = 0; i < ns->n; i++) {
		for (j = 0; j < n && strcmp(known[j], ns->v[i]) != 0; j++)
			;
		if (j == n) {
			memcpy(known[n], ns->v[i], GFSB_ID_HEX);
			found++;
		}
	}
	assert_int_equal(found, 1);
}

/*
 * repair index: with one index file damaged and one pack deleted, the
 * rebuilt index names exactly the blobs of the packs left, and the old
 * index files are gone.
 */
static void
test_index_repair(void **state)
{
	struct fx *f = *state;
	struct gfsb_index_repair_opts ro = { 0, 0 };
	struct gfsb_index_repair_stats st;
	struct gfsb_lock *backup;
	struct gfsb_repo_io *io;
	struct gfsb_repo *r2;
	struct gfsb_buf out;
	struct names ns;
	char idx[3][GFSB_ID_HEX], pack[3][GFSB_ID_HEX];
	uint8_t blob[3][5000], id[3][GFSB_ID_LEN];
	int added, i;

	gfsb_buf_init(&out);
	/* Three blobs, each in a pack and an index file of its own. */
	for (i = 0; i < 3; i++) {
		assert_int_equal(gfsb_repo_io_new(f->r, &io), GFSB_OK);
		gfsb_crypto_random(blob[i], sizeof(blob[i]));
		assert_int_equal(gfsb_repo_blob_write(io, GFSB_BLOB_DATA,
		    blob[i], sizeof(blob[i]), id[i], 0, &added), GFSB_OK);
		gfsb_repo_io_free(io);
		assert_int_equal(gfsb_repo_flush(f->r), GFSB_OK);
		list(f, GFSB_OBJ_INDEX, &ns);
		new_name(&ns, idx, i);
		list(f, GFSB_OBJ_PACK, &ns);
		new_name(&ns, pack, i);
	}
	/* The first blob's index file damaged, the second blob's pack gone:
	 * the first pack must be taken in, the second's blob left out. */
	flip(f, GFSB_OBJ_INDEX, idx[0], 60);
	assert_int_equal(gfsb_backend_remove(f->be, GFSB_OBJ_PACK, pack[1]),
	    GFSB_OK);

	/* A dry run counts and changes nothing: it shares the lock a
	 * backup holds, which the repair itself may not. */
	assert_int_equal(gfsb_repo_lock(f->r, 0, &backup), GFSB_OK);
	r2 = reopen(f);
	ro.dry_run = 1;
	assert_int_equal(gfsb_ops_repair_index(r2, &ro, &st), GFSB_OK);
	assert_int_equal(st.index_files, 3);
	assert_int_equal(st.index_damaged, 1);
	assert_int_equal(st.blobs_before, 2);
	assert_int_equal(st.packs, 2);
	assert_int_equal(st.packs_indexed, 2);
	assert_int_equal(st.packs_adopted, 1);
	assert_int_equal(st.packs_missing, 1);
	assert_int_equal(st.blobs, 2);
	assert_int_equal(st.index_files_written, 0);
	gfsb_repo_close(r2);
	list(f, GFSB_OBJ_INDEX, &ns);
	assert_int_equal(ns.n, 3);

	r2 = reopen(f);
	ro.dry_run = 0;
	assert_int_equal(gfsb_ops_repair_index(r2, &ro, &st), GFSB_ELOCKED);
	gfsb_ctx_clearerr(f->ctx);
	list(f, GFSB_OBJ_INDEX, &ns);
	assert_int_equal(ns.n, 3);
	gfsb_repo_unlock(backup);
	assert_int_equal(gfsb_ops_repair_index(r2, &ro, &st), GFSB_OK);
	assert_int_equal(st.index_files_written, 1);
	assert_int_equal(st.index_files_removed, 3);
	gfsb_repo_close(r2);
	list(f, GFSB_OBJ_INDEX, &ns);
	assert_int_equal(ns.n, 1);

	/* A new process finds exactly the blobs still stored. */
	r2 = reopen(f);
	assert_int_equal(gfsb_repo_index_load(r2), GFSB_OK);
	assert_int_equal(gfsb_repo_index_count(r2), 2);
	assert_int_equal(gfsb_repo_index_lookup(r2, GFSB_BLOB_DATA, id[1],
	    NULL), GFSB_ENOTFOUND);
	assert_int_equal(gfsb_repo_io_new(r2, &io), GFSB_OK);
	for (i = 0; i < 3; i += 2) {
		assert_int_equal(gfsb_repo_blob_read(io, GFSB_BLOB_DATA,
		    id[i], &out), GFSB_OK);
		assert_memory_equal(out.data, blob[i], sizeof(blob[i]));
	}
	gfsb_repo_io_free(io);
	gfsb_repo_close(r2);
	gfsb_buf_fini(&out);
}

/* Packs a (pack id aa..., blob 01...) and b (bb..., 02...), one blob
 * each, for index files written by hand. */
static void
two_packs(struct donepack *a, struct hdrent *ea, struct donepack *b,
    struct hdrent *eb)
{
	memset(ea, 0, sizeof(*ea));
	memset(eb, 0, sizeof(*eb));
	memset(ea->id, 1, GFSB_ID_LEN);
	memset(eb->id, 2, GFSB_ID_LEN);
	ea->length = eb->length = 100;
	ea->raw_length = eb->raw_length = 60;
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	memset(a->id, 0xaa, GFSB_ID_LEN);
	memset(b->id, 0xbb, GFSB_ID_LEN);
	a->ents = ea;
	a->n = 1;
	b->ents = eb;
	b->n = 1;
}

/* Past the bound, index files are read twice: superseded files and a
 * pack named by two files count as when they are kept. */
static void
test_index_files_reread(void **state)
{
	struct fx *f = *state;
	struct gfsb_repo *r2;
	struct donepack a, b;
	struct hdrent ea, eb;
	struct names ns;
	uint8_t sup[1][GFSB_ID_LEN];
	size_t keep = repo_index_keep_entries;

	two_packs(&a, &ea, &b, &eb);
	/* File 1 names a; file 2 supersedes it and names b; file 3 names
	 * b again (a prune interrupted). */
	assert_int_equal(repo_index_write(f->r, &a, 1, NULL, 0), GFSB_OK);
	list(f, GFSB_OBJ_INDEX, &ns);
	assert_int_equal(gfsb_hex_decode(ns.v[0], sup[0], GFSB_ID_LEN),
	    GFSB_OK);
	assert_int_equal(repo_index_write(f->r, &b, 1,
	    (const uint8_t (*)[GFSB_ID_LEN])sup, 1), GFSB_OK);
	assert_int_equal(repo_index_write(f->r, &b, 1, NULL, 0), GFSB_OK);
	repo_index_keep_entries = 0;
	r2 = reopen(f);
	assert_int_equal(gfsb_repo_index_load(r2), GFSB_OK);
	repo_index_keep_entries = keep;
	assert_int_equal(gfsb_repo_index_count(r2), 1);
	assert_int_equal(gfsb_repo_index_duplicates(r2), 0);
	assert_int_equal(gfsb_repo_index_lookup(r2, GFSB_BLOB_DATA, eb.id,
	    NULL), GFSB_OK);
	assert_int_equal(gfsb_repo_index_lookup(r2, GFSB_BLOB_DATA, ea.id,
	    NULL), GFSB_ENOTFOUND);
	gfsb_repo_close(r2);
}

/* An index superseded by a newer one is ignored, and damage is named. */
static void
test_index_files(void **state)
{
	struct fx *f = *state;
	struct gfsb_repo *r2;
	struct donepack a, b;
	struct hdrent ea, eb;
	struct names ns;
	uint8_t sup[1][GFSB_ID_LEN];
	int i;

	two_packs(&a, &ea, &b, &eb);
	assert_int_equal(repo_index_write(f->r, &a, 1, NULL, 0), GFSB_OK);
	list(f, GFSB_OBJ_INDEX, &ns);
	assert_int_equal(ns.n, 1);
	assert_int_equal(gfsb_hex_decode(ns.v[0], sup[0], GFSB_ID_LEN),
	    GFSB_OK);
	assert_int_equal(repo_index_write(f->r, &b, 1,
	    (const uint8_t (*)[GFSB_ID_LEN])sup, 1), GFSB_OK);
	r2 = reopen(f);
	assert_int_equal(gfsb_repo_index_load(r2), GFSB_OK);
	assert_int_equal(gfsb_repo_index_count(r2), 1);
	assert_int_equal(gfsb_repo_index_lookup(r2, GFSB_BLOB_DATA, eb.id,
	    NULL), GFSB_OK);
	assert_int_equal(gfsb_repo_index_lookup(r2, GFSB_BLOB_DATA, ea.id,
	    NULL), GFSB_ENOTFOUND);
	gfsb_repo_close(r2);
	/* Damage an index file: loading fails and names it. */
	list(f, GFSB_OBJ_INDEX, &ns);
	for (i = 0; i < ns.n; i++) {
		if (strncmp(ns.v[i], ns.v[0], 64) == 0) {
			flip(f, GFSB_OBJ_INDEX, ns.v[i], 60);
			break;
		}
	}
	r2 = reopen(f);
	assert_int_equal(gfsb_repo_index_load(r2), GFSB_ECORRUPT);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), ns.v[0]));
	gfsb_ctx_clearerr(f->ctx);
	gfsb_repo_close(r2);
}

/* Sealed garbage (valid MAC, nonsense inside) is a format error. */
static void
test_index_garbage(void **state)
{
	struct fx *f = *state;
	struct gfsb_repo *r2;
	char name[GFSB_ID_HEX];
	uint8_t junk[300];
	size_t cut;

	gfsb_crypto_random(junk, sizeof(junk));
	junk[0] = 1; /* the right version, then nonsense */
	for (cut = 1; cut < sizeof(junk); cut += 37) {
		assert_int_equal(repo_obj_store(f->r, GFSB_OBJ_INDEX,
		    ENV_INDEX, junk, cut, name), GFSB_OK);
		r2 = reopen(f);
		assert_int_equal(gfsb_repo_index_load(r2), GFSB_ECORRUPT);
		gfsb_ctx_clearerr(f->ctx);
		gfsb_repo_close(r2);
		assert_int_equal(gfsb_backend_remove(f->be, GFSB_OBJ_INDEX,
		    name), GFSB_OK);
	}
	/* The wrong kind of object under index/ is refused too. */
	assert_int_equal(repo_obj_store(f->r, GFSB_OBJ_INDEX, ENV_SNAPSHOT,
	    junk, 10, name), GFSB_OK);
	r2 = reopen(f);
	assert_int_equal(gfsb_repo_index_load(r2), GFSB_ECORRUPT);
	gfsb_ctx_clearerr(f->ctx);
	gfsb_repo_close(r2);
}

static void
make_node(struct gfsb_node *n, enum gfsb_node_kind kind, const char *name)
{
	static const unsigned fmt[] = { 0, S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO,
		S_IFCHR, S_IFBLK, S_IFSOCK };

	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->name = strdup(name);
	n->mode = fmt[kind] | 0640;
	n->uid = 1000;
	n->gid = 100;
	n->user = strdup("alice");
	n->mtime.sec = 1700000000;
	n->mtime.nsec = 123456789;
	n->ctime.sec = 1700000001;
	n->inode = 42;
	n->dev = 7;
	if (kind == GFSB_NODE_FILE) {
		n->nextents = 2;
		n->extents = calloc(2, sizeof(*n->extents));
		n->extents[0].len = 1000;
		memset(n->extents[0].id, 9, GFSB_ID_LEN);
		n->extents[1].hole = 1;
		n->extents[1].len = 1ULL << 40; /* a terabyte hole */
		n->size = 1000 + (1ULL << 40);
		n->nlink = 2;
		n->nxattrs = 1;
		n->xattrs = calloc(1, sizeof(*n->xattrs));
		n->xattrs[0].name = strdup("user.comment");
		n->xattrs[0].value = (uint8_t *)strdup("hi");
		n->xattrs[0].len = 2;
	} else if (kind == GFSB_NODE_DIR) {
		memset(n->subtree, 5, GFSB_ID_LEN);
	} else if (kind == GFSB_NODE_SYMLINK) {
		n->target = strdup("../target");
	} else if (kind == GFSB_NODE_CHARDEV) {
		n->rdev = 0x0501;
	}
}

static void
build_tree(struct gfsb_tree *t)
{
	static const char *names[] = { "", "file", "dir", "link", "fifo",
		"chr", "blk", "sock" };
	struct gfsb_node n;
	int k;

	gfsb_repo_tree_init(t);
	for (k = GFSB_NODE_FILE; k <= GFSB_NODE_SOCKET; k++) {
		make_node(&n, (enum gfsb_node_kind)k, names[k]);
		assert_int_equal(gfsb_repo_tree_add(t, &n), GFSB_OK);
	}
	make_node(&n, GFSB_NODE_FILE, "\xff\xfe not utf-8");
	assert_int_equal(gfsb_repo_tree_add(t, &n), GFSB_OK);
	gfsb_repo_tree_sort(t);
}

static void
test_tree_round_trip(void **state)
{
	struct gfsb_tree t, u;
	struct gfsb_buf b, b2;
	const struct gfsb_node *n;
	size_t cut;

	(void)state;
	gfsb_buf_init(&b);
	gfsb_buf_init(&b2);
	build_tree(&t);
	assert_int_equal(gfsb_repo_tree_encode(&t, &b), GFSB_OK);
	assert_int_equal(gfsb_repo_tree_decode(b.data, b.len, &u), GFSB_OK);
	assert_int_equal(u.n, t.n);
	/* Canonical: decoding and encoding again gives the same bytes. */
	assert_int_equal(gfsb_repo_tree_encode(&u, &b2), GFSB_OK);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	n = gfsb_repo_tree_find(&u, "file");
	assert_non_null(n);
	assert_true(n->size == 1000 + (1ULL << 40));
	assert_int_equal(n->extents[1].hole, 1);
	assert_string_equal(n->user, "alice");
	assert_null(n->group);
	assert_int_equal(n->mtime.nsec, 123456789);
	assert_string_equal(n->xattrs[0].name, "user.comment");
	assert_string_equal(gfsb_repo_tree_find(&u, "link")->target,
	    "../target");
	assert_true(gfsb_repo_tree_find(&u, "chr")->rdev == 0x0501);
	assert_null(gfsb_repo_tree_find(&u, "nope"));
	gfsb_repo_tree_fini(&u);
	/* Every truncation is an error. */
	for (cut = 0; cut < b.len; cut++)
		assert_int_equal(gfsb_repo_tree_decode(b.data, cut, &u),
		    GFSB_ECORRUPT);
	/* Trailing bytes too. */
	assert_int_equal(gfsb_buf_put_u8(&b, 0), GFSB_OK);
	assert_int_equal(gfsb_repo_tree_decode(b.data, b.len, &u),
	    GFSB_ECORRUPT);
	gfsb_repo_tree_fini(&t);
	gfsb_buf_fini(&b);
	gfsb_buf_fini(&b2);
}

static void
test_tree_bit_flips(void **state)
{
	struct gfsb_tree t, u;
	struct gfsb_buf b;
	size_t bit;

	(void)state;
	gfsb_buf_init(&b);
	build_tree(&t);
	assert_int_equal(gfsb_repo_tree_encode(&t, &b), GFSB_OK);
	for (bit = 0; bit < b.len * 8; bit++) {
		b.data[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		if (gfsb_repo_tree_decode(b.data, b.len, &u) == GFSB_OK)
			gfsb_repo_tree_fini(&u);
		b.data[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
	gfsb_repo_tree_fini(&t);
	gfsb_buf_fini(&b);
}

/* Encode a one-entry tree named `good`, then patch the name bytes. */
static void
hostile(const char *good, const char *bad, size_t badlen)
{
	struct gfsb_tree t, u;
	struct gfsb_node n;
	struct gfsb_buf b;
	uint8_t *p;

	gfsb_buf_init(&b);
	gfsb_repo_tree_init(&t);
	make_node(&n, GFSB_NODE_FIFO, good);
	assert_int_equal(gfsb_repo_tree_add(&t, &n), GFSB_OK);
	assert_int_equal(gfsb_repo_tree_encode(&t, &b), GFSB_OK);
	assert_int_equal(strlen(good), badlen);
	p = memmem(b.data, b.len, good, badlen);
	assert_non_null(p);
	memcpy(p, bad, badlen);
	assert_int_equal(gfsb_repo_tree_decode(b.data, b.len, &u),
	    GFSB_ECORRUPT);
	gfsb_repo_tree_fini(&t);
	gfsb_buf_fini(&b);
}

static void
test_tree_hostile_names(void **state)
{
	struct gfsb_tree t;
	struct gfsb_node n;
	struct gfsb_buf b;

	(void)state;
	hostile("xx", "..", 2);
	hostile("x", ".", 1);
	hostile("a_b", "a/b", 3);
	hostile("abc", "a\0c", 3);
	hostile("aaaa", "/etc", 4);
	/* The encoder refuses them too, and duplicates, and size lies. */
	gfsb_buf_init(&b);
	gfsb_repo_tree_init(&t);
	make_node(&n, GFSB_NODE_FIFO, "..");
	assert_int_equal(gfsb_repo_tree_add(&t, &n), GFSB_OK);
	assert_int_equal(gfsb_repo_tree_encode(&t, &b), GFSB_EINVAL);
	gfsb_repo_tree_fini(&t);
	make_node(&n, GFSB_NODE_FIFO, "same");
	assert_int_equal(gfsb_repo_tree_add(&t, &n), GFSB_OK);
	make_node(&n, GFSB_NODE_FIFO, "same");
	assert_int_equal(gfsb_repo_tree_add(&t, &n), GFSB_OK);
	b.len = 0;
	assert_int_equal(gfsb_repo_tree_encode(&t, &b), GFSB_EINVAL);
	gfsb_repo_tree_fini(&t);
	make_node(&n, GFSB_NODE_FILE, "f");
	n.size += 1;
	assert_int_equal(gfsb_repo_tree_add(&t, &n), GFSB_OK);
	b.len = 0;
	assert_int_equal(gfsb_repo_tree_encode(&t, &b), GFSB_EINVAL);
	gfsb_repo_tree_fini(&t);
	/* Duplicate names written by hand are refused on decode. */
	make_node(&n, GFSB_NODE_FIFO, "aa");
	assert_int_equal(gfsb_repo_tree_add(&t, &n), GFSB_OK);
	make_node(&n, GFSB_NODE_FIFO, "ab");
	assert_int_equal(gfsb_repo_tree_add(&t, &n), GFSB_OK);
	b.len = 0;
	assert_int_equal(gfsb_repo_tree_encode(&t, &b), GFSB_OK);
	{
		uint8_t *p = memmem(b.data, b.len, "ab", 2);
		struct gfsb_tree u;

		p[1] = 'a';
		assert_int_equal(gfsb_repo_tree_decode(b.data, b.len, &u),
		    GFSB_ECORRUPT);
	}
	gfsb_repo_tree_fini(&t);
	gfsb_buf_fini(&b);
}

static struct gfsb_snapshot *
snap(const char *host, int64_t t)
{
	struct gfsb_snapshot *s = calloc(1, sizeof(*s));

	s->time.sec = t;
	s->hostname = strdup(host);
	s->username = strdup("root");
	s->npaths = 1;
	s->paths = calloc(1, sizeof(char *));
	s->paths[0] = strdup("/srv");
	s->ntags = 1;
	s->tags = calloc(1, sizeof(char *));
	s->tags[0] = strdup("daily");
	memset(s->tree, 3, GFSB_ID_LEN);
	s->has_summary = 1;
	s->summary.files_new = 12;
	s->summary.backup_start.sec = t - 5;
	s->summary.backup_end.sec = t;
	return s;
}

static void
test_snapshots(void **state)
{
	struct fx *f = *state;
	struct gfsb_snapshot *a = snap("web1", 1700000000), *b =
	    snap("web2", 1700003600), *c = snap("web1", 1700007200), *got;
	struct gfsb_snapshot **all;
	char prefix[9], *json;
	size_t n;

	assert_int_equal(gfsb_repo_snapshot_save(f->r, a), GFSB_OK);
	assert_int_equal(gfsb_repo_snapshot_save(f->r, b), GFSB_OK);
	snprintf(c->parent, sizeof(c->parent), "%s", a->id);
	assert_int_equal(gfsb_repo_snapshot_save(f->r, c), GFSB_OK);
	assert_int_equal(gfsb_repo_snapshot_list(f->r, &all, &n), GFSB_OK);
	assert_int_equal(n, 3);
	assert_string_equal(all[0]->id, a->id); /* oldest first */
	assert_string_equal(all[2]->id, c->id);
	assert_string_equal(all[2]->parent, a->id);
	assert_true(all[2]->summary.files_new == 12);
	json = gfsb_repo_snapshot_json(all, n);
	assert_non_null(strstr(json, "\"short_id\""));
	assert_non_null(strstr(json, "\"hostname\":\"web2\""));
	free(json);
	gfsb_repo_snapshot_list_free(all, n);
	assert_int_equal(gfsb_repo_snapshot_find(f->r, "latest", NULL, &got),
	    GFSB_OK);
	assert_string_equal(got->id, c->id);
	gfsb_repo_snapshot_free(got);
	assert_int_equal(gfsb_repo_snapshot_find(f->r, "latest", "web2", &got),
	    GFSB_OK);
	assert_string_equal(got->id, b->id);
	gfsb_repo_snapshot_free(got);
	snprintf(prefix, sizeof(prefix), "%.8s", b->id);
	assert_int_equal(gfsb_repo_snapshot_find(f->r, prefix, NULL, &got),
	    GFSB_OK);
	assert_string_equal(got->tags[0], "daily");
	gfsb_repo_snapshot_free(got);
	assert_int_equal(gfsb_repo_snapshot_find(f->r, "", NULL, &got),
	    GFSB_EINVAL);
	assert_int_equal(gfsb_repo_snapshot_find(f->r, "zz", NULL, &got),
	    GFSB_EINVAL);
	assert_int_equal(gfsb_repo_snapshot_find(f->r, "latest", "db9", &got),
	    GFSB_ENOTFOUND);
	gfsb_ctx_clearerr(f->ctx);
	/* A damaged snapshot is named, not skipped. */
	flip(f, GFSB_OBJ_SNAPSHOT, b->id, 30);
	assert_int_equal(gfsb_repo_snapshot_load(f->r, b->id, &got),
	    GFSB_ECORRUPT);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), b->id));
	gfsb_ctx_clearerr(f->ctx);
	gfsb_repo_snapshot_free(a);
	gfsb_repo_snapshot_free(b);
	gfsb_repo_snapshot_free(c);
}

static void
test_locks(void **state)
{
	struct fx *f = *state;
	struct gfsb_lock *x, *s1, *s2;
	struct names ns;
	char name[GFSB_ID_HEX];
	const char *old = "{\"time\":\"2020-01-01T00:00:00Z\",\"exclusive\":"
	    "true,\"hostname\":\"elsewhere\",\"username\":\"u\",\"pid\":1}";
	size_t removed;

	assert_int_equal(gfsb_repo_lock(f->r, 0, &s1), GFSB_OK);
	assert_int_equal(gfsb_repo_lock(f->r, 0, &s2), GFSB_OK);
	assert_int_equal(gfsb_repo_lock(f->r, 1, &x), GFSB_ELOCKED);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), "locked"));
	gfsb_ctx_clearerr(f->ctx);
	gfsb_repo_unlock(s1);
	gfsb_repo_unlock(s2);
	list(f, GFSB_OBJ_LOCK, &ns);
	assert_int_equal(ns.n, 0);
	assert_int_equal(gfsb_repo_lock(f->r, 1, &x), GFSB_OK);
	assert_int_equal(gfsb_repo_lock(f->r, 0, &s1), GFSB_ELOCKED);
	gfsb_ctx_clearerr(f->ctx);
	gfsb_repo_unlock(x);
	/* A lock not refreshed for 30 minutes does not block. */
	assert_int_equal(repo_obj_store(f->r, GFSB_OBJ_LOCK, ENV_LOCK,
	    (const uint8_t *)old, strlen(old), name), GFSB_OK);
	assert_int_equal(gfsb_repo_lock(f->r, 1, &x), GFSB_OK);
	gfsb_repo_unlock(x);
	assert_int_equal(gfsb_repo_unlock_stale(f->r, 0, &removed), GFSB_OK);
	assert_int_equal(removed, 1);
	list(f, GFSB_OBJ_LOCK, &ns);
	assert_int_equal(ns.n, 0);
}

/* Format v1's tree encoding is pinned: a tree of every kind of node
 * encodes to the same bytes as when v1 was defined (docs/FORMAT.md,
 * "Trees"), and decodes back to itself.  tests/e2e/38-golden-v1 pins the
 * reading of a whole v1 repository. */
static void
test_tree_encoding_pinned(void **state)
{
	static const char *const want =
	    "9bb4ecde660cbec85b15135d0d1796d799a3d038fbe87d82d3a25119146be872";
	struct gfsb_tree tr, back;
	struct gfsb_node n;
	struct gfsb_buf b, b2;
	char hex[GFSB_ID_HEX];
	size_t i;

	(void)state;
	gfsb_repo_tree_init(&tr);
	memset(&n, 0, sizeof(n));
	n.kind = GFSB_NODE_DIR;
	n.name = strdup("etc");
	n.mode = 040750;
	n.uid = 0;
	n.gid = 4;
	n.user = strdup("root");
	n.group = strdup("adm");
	n.mtime = (struct gfsb_time){ 1262304000, 500000000 };
	n.ctime = (struct gfsb_time){ 1262304001, 1 };
	n.inode = 12345;
	n.dev = 2049;
	n.nlink = 3;
	memset(n.subtree, 0xab, sizeof(n.subtree));
	assert_int_equal(gfsb_repo_tree_add(&tr, &n), GFSB_OK);
	memset(&n, 0, sizeof(n));
	n.kind = GFSB_NODE_FILE;
	n.name = strdup("file with spaces");
	n.mode = 0104755;
	n.uid = 1000;
	n.gid = 1000;
	n.mtime = (struct gfsb_time){ 981173106, 123456789 };
	n.ctime = (struct gfsb_time){ 1796547000, 42 };
	n.inode = 99;
	n.dev = 2049;
	n.nlink = 2;
	n.size = 3000000;
	n.nextents = 2;
	n.extents = calloc(2, sizeof(*n.extents));
	n.extents[0].hole = 1;
	n.extents[0].len = 1000000;
	memset(n.extents[1].id, 0x5a, GFSB_ID_LEN);
	n.extents[1].len = 2000000;
	n.nxattrs = 1;
	n.xattrs = calloc(1, sizeof(*n.xattrs));
	n.xattrs[0].name = strdup("user.golden");
	n.xattrs[0].value = (uint8_t *)strdup("v1");
	n.xattrs[0].len = 2;
	assert_int_equal(gfsb_repo_tree_add(&tr, &n), GFSB_OK);
	memset(&n, 0, sizeof(n));
	n.kind = GFSB_NODE_SYMLINK;
	n.name = strdup("link");
	n.mode = 0120777;
	n.mtime = (struct gfsb_time){ 1015218367, 0 };
	n.target = strdup("../etc/motd");
	n.nlink = 1;
	assert_int_equal(gfsb_repo_tree_add(&tr, &n), GFSB_OK);

	gfsb_buf_init(&b);
	assert_int_equal(gfsb_repo_tree_encode(&tr, &b), GFSB_OK);
	gfsb_crypto_sha256_hex(b.data, b.len, hex);
	print_message("tree encoding: %zu bytes, SHA-256 %s\n", b.len, hex);
	assert_string_equal(hex, want);
	/* And back, to the same bytes. */
	gfsb_repo_tree_init(&back);
	assert_int_equal(gfsb_repo_tree_decode(b.data, b.len, &back), GFSB_OK);
	assert_int_equal(back.n, tr.n);
	for (i = 0; i < back.n; i++)
		assert_string_equal(back.nodes[i].name, tr.nodes[i].name);
	gfsb_buf_init(&b2);
	assert_int_equal(gfsb_repo_tree_encode(&back, &b2), GFSB_OK);
	assert_int_equal(b2.len, b.len);
	assert_memory_equal(b2.data, b.data, b.len);
	gfsb_buf_fini(&b);
	gfsb_buf_fini(&b2);
	gfsb_repo_tree_fini(&back);
	gfsb_repo_tree_fini(&tr);
}

/* Plant an exclusive lock of this host, written now, for process pid
 * (start: its start time, 0 to leave it out; boot: the boot id, NULL to
 * leave it out); say whether it blocks a shared lock. */
static int
blocks(struct fx *f, long pid, long long start, const char *boot)
{
	char text[512], host[256], when[64], name[GFSB_ID_HEX];
	struct gfsb_lock *s;
	struct gfsb_time now;
	size_t removed;
	gfsb_err e;
	int n;

	gfsb_time_now(&now);
	gfsb_time_format_rfc3339(&now, when, sizeof(when));
	gfsb_sys_hostname(host, sizeof(host));
	n = snprintf(text, sizeof(text), "{\"time\":\"%s\",\"exclusive\":true,"
	    "\"hostname\":\"%s\",\"username\":\"u\",\"pid\":%ld", when, host,
	    pid);
	if (start != 0)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    ",\"pid_start\":%lld", start);
	if (boot != NULL)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    ",\"boot_id\":\"%s\"", boot);
	snprintf(text + n, sizeof(text) - (size_t)n, "}");
	assert_int_equal(repo_obj_store(f->r, GFSB_OBJ_LOCK, ENV_LOCK,
	    (const uint8_t *)text, strlen(text), name), GFSB_OK);
	e = gfsb_repo_lock(f->r, 0, &s);
	if (e == GFSB_OK)
		gfsb_repo_unlock(s);
	gfsb_ctx_clearerr(f->ctx);
	assert_int_equal(gfsb_repo_unlock_stale(f->r, 1, &removed), GFSB_OK);
	return e == GFSB_ELOCKED;
}

/* The start time of process pid, as the kernel gives it. */
static long long
started(long pid)
{
	char path[64], buf[1024], *p;
	FILE *fp;
	size_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	assert_non_null(fp = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	for (i = 3; i <= 22; i++)
		assert_non_null(p = strchr(p + 1, ' '));
	return strtoll(p + 1, NULL, 10);
}

/* A lock of this host whose process id is alive blocks only if that
 * process is the one that wrote it: a killed process's id given to
 * another (whose start time differs), or a lock from before a reboot (a
 * boot id that is not this one), does not. */
static void
test_locks_reused_pid(void **state)
{
	struct fx *f = *state;
	long parent = (long)getppid();
	char boot[40] = "";
	FILE *fp;

	assert_non_null(fp = fopen("/proc/sys/kernel/random/boot_id", "r"));
	assert_non_null(fgets(boot, sizeof(boot), fp));
	fclose(fp);
	boot[strcspn(boot, "\n")] = '\0';
	assert_true(blocks(f, parent, started(parent), boot));
	assert_true(blocks(f, parent, 0, NULL)); /* an older lock: the id */
	assert_false(blocks(f, parent, started(parent) + 1, boot));
	assert_false(blocks(f, parent, started(parent),
	    "00000000-0000-0000-0000-000000000000"));
	/* And gfsbackup's own locks carry both. */
	{
		struct gfsb_lock *x;
		struct names ns;
		struct gfsb_buf plain;
		char *p;

		assert_int_equal(gfsb_repo_lock(f->r, 1, &x), GFSB_OK);
		list(f, GFSB_OBJ_LOCK, &ns);
		assert_int_equal(ns.n, 1);
		gfsb_buf_init(&plain);
		assert_int_equal(repo_obj_load(f->r, GFSB_OBJ_LOCK, ENV_LOCK,
		    ns.v[0], 4096, &plain), GFSB_OK);
		assert_int_equal(gfsb_buf_append(&plain, "", 1), GFSB_OK);
		p = (char *)plain.data;
		assert_non_null(strstr(p, "\"pid_start\":"));
		assert_non_null(strstr(p, boot));
		gfsb_buf_fini(&plain);
		gfsb_repo_unlock(x);
	}
}

/*
 * A read-only view of the past: a shared lock is granted without a word
 * to the storage (a live exclusive lock of the present does not stand in
 * its way), an exclusive one is refused; no cache; a missing repository
 * is said to be missing as of the moment.
 */
static void
test_view_locks_cache_probe(void **state)
{
	struct fx *f = *state;
	struct gfsb_backend *empty;
	struct gfsb_lock *held, *s1, *x;
	struct names ns;
	char dir[] = "/tmp/gfsb-viewcache-XXXXXX", sub[64], want[96];
	int64_t t;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(gfsb_backend_oldest_version(f->be, GFSB_OBJ_CONFIG,
	    &t), GFSB_EUNSUPPORTED);
	gfsb_ctx_clearerr(f->ctx);
	assert_int_equal(gfsb_repo_lock(f->r, 1, &held), GFSB_OK);
	assert_int_equal(gfsb_backend_mem_set_read_only(f->be, 1767229200),
	    GFSB_OK);
	assert_int_equal(gfsb_repo_lock(f->r, 0, &s1), GFSB_OK);
	list(f, GFSB_OBJ_LOCK, &ns);
	assert_int_equal(ns.n, 1);
	gfsb_repo_unlock(s1);
	list(f, GFSB_OBJ_LOCK, &ns);
	assert_int_equal(ns.n, 1);
	assert_int_equal(gfsb_repo_lock(f->r, 1, &x), GFSB_EDENIED);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx),
	    "read-only view of the past"));
	gfsb_ctx_clearerr(f->ctx);
	/* Writes below the repository layer are refused too. */
	assert_int_equal(gfsb_backend_remove(f->be, GFSB_OBJ_LOCK, ns.v[0]),
	    GFSB_EDENIED);
	gfsb_ctx_clearerr(f->ctx);

	/* No cache, even one asked for by name: nothing is created. */
	snprintf(sub, sizeof(sub), "%s/c", dir);
	assert_int_equal(gfsb_repo_set_cache(f->r, sub), GFSB_OK);
	assert_null(gfsb_repo_cache_path(f->r));
	assert_int_equal(rmdir(dir), 0);

	assert_int_equal(gfsb_repo_probe(f->ctx, f->be), GFSB_OK);
	assert_int_equal(gfsb_backend_oldest_version(f->be, GFSB_OBJ_CONFIG,
	    &t), GFSB_OK);
	assert_true(t > 0);
	assert_int_equal(gfsb_backend_mem_new(f->ctx, &empty), GFSB_OK);
	assert_int_equal(gfsb_backend_mem_set_read_only(empty, 1767229200),
	    GFSB_OK);
	assert_int_equal(gfsb_repo_probe(f->ctx, empty), GFSB_ENOREPO);
	snprintf(want, sizeof(want), "there is no repository at %s as of ",
	    gfsb_backend_location(empty));
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), want));
	gfsb_ctx_clearerr(f->ctx);
	gfsb_backend_close(empty);

	assert_int_equal(gfsb_backend_mem_set_read_only(f->be, 0), GFSB_OK);
	assert_int_equal(gfsb_backend_as_of(f->be), 0);
	gfsb_repo_unlock(held);
	list(f, GFSB_OBJ_LOCK, &ns);
	assert_int_equal(ns.n, 0);
}

/* ---- a storage that fails: never taken for damage ---- */

/* Every warning and error logged, one line after another. */
struct logbuf {
	char text[8192];
};

static void
logcap(void *cookie, enum gfsb_log_level level, const char *msg)
{
	struct logbuf *l = cookie;
	size_t n = strlen(l->text);

	(void)level;
	snprintf(l->text + n, sizeof(l->text) - n, "%s\n", msg);
}

/* The error of a failed read: the storage's, naming the object; nothing
 * logged or recorded calls anything damaged. */
static void
storage_error(struct fx *f, const struct logbuf *log, gfsb_err got,
    gfsb_err want, const char *object)
{
	assert_int_equal(got, want);
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), object));
	assert_non_null(strstr(gfsb_ctx_errmsg(f->ctx), "injected failure"));
	assert_null(strstr(gfsb_ctx_errmsg(f->ctx), "damage"));
	assert_null(strstr(log->text, "damage"));
	gfsb_ctx_clearerr(f->ctx);
}

static void
missing_index(void *cookie, const char *name, gfsb_err e, const char *detail)
{
	int *calls = cookie;

	(void)name;
	(void)detail;
	assert_int_equal(e, GFSB_ENOTFOUND);
	(*calls)++;
}

/* Keys and config: the open fails with the storage's error, not with
 * "damaged", "no readable key file" or "wrong passphrase". */
static void
test_unreadable_keys_and_config(void **state)
{
	struct fx *f = *state;
	struct logbuf log = { "" };
	struct gfsb_key_info *keys;
	struct gfsb_repo *r;
	struct names ns;
	char obj[GFSB_ID_HEX + 8];
	size_t n;

	gfsb_ctx_set_log(f->ctx, logcap, &log);
	list(f, GFSB_OBJ_KEY, &ns);
	assert_int_equal(ns.n, 1);
	snprintf(obj, sizeof(obj), "keys/%s", ns.v[0]);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_KEY, NULL, GFSB_ENET);
	storage_error(f, &log, gfsb_repo_open(f->ctx, f->be, PASS,
	    strlen(PASS), &r), GFSB_ENET, obj);
	/* A wrong passphrase makes no difference: nothing was tried. */
	storage_error(f, &log, gfsb_repo_open(f->ctx, f->be, "wrong", 5, &r),
	    GFSB_ENET, obj);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_KEY, NULL, GFSB_EDENIED);
	storage_error(f, &log, gfsb_repo_open(f->ctx, f->be, PASS,
	    strlen(PASS), &r), GFSB_EDENIED, obj);
	/* Listed, then not found, twice: the key file is missing. */
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_KEY, NULL, GFSB_ENOTFOUND);
	assert_int_equal(gfsb_repo_open(f->ctx, f->be, PASS, strlen(PASS),
	    &r), GFSB_ECORRUPT);
	assert_non_null(strstr(log.text, "was listed but is gone"));
	gfsb_ctx_clearerr(f->ctx);
	log.text[0] = '\0';
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_KEY, NULL, GFSB_OK);

	gfsb_backend_mem_fault(f->be, GFSB_OBJ_CONFIG, NULL, GFSB_ENET);
	storage_error(f, &log, gfsb_repo_open(f->ctx, f->be, PASS,
	    strlen(PASS), &r), GFSB_ENET, "config");
	/* A mirror whose config cannot be read is not "another one". */
	storage_error(f, &log, gfsb_repo_open_mirror(f->r, f->be, &r),
	    GFSB_ENET, "config");
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_CONFIG, NULL, GFSB_OK);

	/* Open, then the key files stop answering: the listing of keys
	 * (verify's) fails, it does not call them damaged. */
	r = reopen(f);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_KEY, NULL, GFSB_ENET);
	storage_error(f, &log, gfsb_repo_key_list(r, &keys, &n), GFSB_ENET,
	    obj);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_KEY, NULL, GFSB_ENOTFOUND);
	assert_int_equal(gfsb_repo_key_list(r, &keys, &n), GFSB_OK);
	assert_int_equal(n, 0); /* removed since the listing */
	free(keys);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_KEY, NULL, GFSB_OK);
	gfsb_repo_close(r);
	gfsb_ctx_set_log(f->ctx, NULL, NULL);
}

/* Index files, snapshots, packs and locks that cannot be read. */
static void
test_unreadable_objects(void **state)
{
	struct fx *f = *state;
	struct logbuf log = { "" };
	struct gfsb_snapshot *s = snap("web1", 1700000000), *got, **all;
	struct gfsb_repo_io *io;
	struct gfsb_lock *held, *l;
	struct gfsb_repo *r;
	struct gfsb_buf out;
	struct names ns;
	uint8_t blob[5000], id[GFSB_ID_LEN];
	char obj[GFSB_ID_HEX + 16];
	size_t n;
	int added, calls = 0;

	gfsb_buf_init(&out);
	assert_int_equal(gfsb_repo_io_new(f->r, &io), GFSB_OK);
	gfsb_crypto_random(blob, sizeof(blob));
	assert_int_equal(gfsb_repo_blob_write(io, GFSB_BLOB_DATA, blob,
	    sizeof(blob), id, 0, &added), GFSB_OK);
	assert_int_equal(gfsb_repo_flush(f->r), GFSB_OK);
	gfsb_repo_io_free(io);
	assert_int_equal(gfsb_repo_snapshot_save(f->r, s), GFSB_OK);
	gfsb_ctx_set_log(f->ctx, logcap, &log);
	r = reopen(f);

	list(f, GFSB_OBJ_INDEX, &ns);
	assert_int_equal(ns.n, 1);
	snprintf(obj, sizeof(obj), "index/%s", ns.v[0]);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_INDEX, NULL, GFSB_ENET);
	storage_error(f, &log, gfsb_repo_index_load(r), GFSB_ENET, obj);
	/* Not handed to verify's and repair's "damaged index" either. */
	storage_error(f, &log, gfsb_repo_index_load_check(r, missing_index,
	    &calls), GFSB_ENET, obj);
	assert_int_equal(calls, 0);
	/* Gone although listed: missing, which is damage. */
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_INDEX, NULL, GFSB_ENOTFOUND);
	assert_int_equal(gfsb_repo_index_load_check(r, missing_index, &calls),
	    GFSB_OK);
	assert_int_equal(calls, 1);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_INDEX, NULL, GFSB_OK);
	gfsb_repo_close(r);
	r = reopen(f);
	assert_int_equal(gfsb_repo_index_load(r), GFSB_OK);

	snprintf(obj, sizeof(obj), "snapshots/%s", s->id);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_SNAPSHOT, NULL, GFSB_ENET);
	storage_error(f, &log, gfsb_repo_snapshot_list(r, &all, &n), GFSB_ENET,
	    obj);
	/* "latest" does not skip it as unreadable and pick another. */
	storage_error(f, &log, gfsb_repo_snapshot_find(r, "latest", NULL,
	    &got), GFSB_ENET, obj);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_SNAPSHOT, NULL, GFSB_OK);

	list(f, GFSB_OBJ_PACK, &ns);
	assert_int_equal(ns.n, 1);
	snprintf(obj, sizeof(obj), "data/%s", ns.v[0]);
	assert_int_equal(gfsb_repo_io_new(r, &io), GFSB_OK);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_PACK, NULL, GFSB_ENET);
	storage_error(f, &log, gfsb_repo_blob_read(io, GFSB_BLOB_DATA, id,
	    &out), GFSB_ENET, obj);
	/* A pack the index names and storage lacks is missing: damage. */
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_PACK, NULL, GFSB_ENOTFOUND);
	assert_int_equal(gfsb_repo_blob_read(io, GFSB_BLOB_DATA, id, &out),
	    GFSB_ECORRUPT);
	gfsb_ctx_clearerr(f->ctx);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_PACK, NULL, GFSB_OK);
	assert_int_equal(gfsb_repo_blob_read(io, GFSB_BLOB_DATA, id, &out),
	    GFSB_OK);
	assert_memory_equal(out.data, blob, sizeof(blob));
	gfsb_repo_io_free(io);

	/* A live lock that cannot be read is neither ignored (an exclusive
	 * lock taken beside it) nor removed as unreadable. */
	assert_int_equal(gfsb_repo_lock(f->r, 0, &held), GFSB_OK);
	list(f, GFSB_OBJ_LOCK, &ns);
	assert_int_equal(ns.n, 1);
	snprintf(obj, sizeof(obj), "locks/%s", ns.v[0]);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_LOCK, NULL, GFSB_ENET);
	storage_error(f, &log, gfsb_repo_lock(r, 1, &l), GFSB_ENET, obj);
	storage_error(f, &log, gfsb_repo_unlock_stale(r, 0, &n), GFSB_ENET,
	    obj);
	assert_int_equal(n, 0);
	storage_error(f, &log, gfsb_repo_lock_count(r, &n, &n), GFSB_ENET,
	    obj);
	list(f, GFSB_OBJ_LOCK, &ns);
	assert_int_equal(ns.n, 1);
	gfsb_backend_mem_fault(f->be, GFSB_OBJ_LOCK, NULL, GFSB_OK);
	assert_int_equal(gfsb_repo_lock(r, 1, &l), GFSB_ELOCKED);
	gfsb_ctx_clearerr(f->ctx);
	gfsb_repo_unlock(held);

	gfsb_repo_close(r);
	gfsb_repo_snapshot_free(s);
	gfsb_buf_fini(&out);
	gfsb_ctx_set_log(f->ctx, NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_and_passphrases,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_memory, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_file_tampering,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_tampering, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_blobs_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_packs_and_headers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pack_recovery, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_index_repair, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_index_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_index_files_reread,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_garbage, setup,
		    teardown),
		cmocka_unit_test(test_tree_round_trip),
		cmocka_unit_test(test_tree_bit_flips),
		cmocka_unit_test(test_tree_hostile_names),
		cmocka_unit_test_setup_teardown(test_snapshots, setup,
		    teardown),
		cmocka_unit_test(test_tree_encoding_pinned),
		cmocka_unit_test_setup_teardown(test_locks_reused_pid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_view_locks_cache_probe,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_keys_and_config,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_objects, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
