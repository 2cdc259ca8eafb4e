/*
 * Hostile input for every decoder of outside data: what the fuzz targets
 * (tests/fuzz) found, as regression tests, and hand-made attacks (absurd
 * counts and lengths, truncation at every byte, bad names, compression
 * bombs) that must be refused cleanly, without allocating more than the
 * input justifies.  Run under ASan+UBSan in CI.
 */
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
#include <gfsbackup/compress.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/util.h>

#include "backend/s3_internal.h"
#include "repo/repo_internal.h"

#define PASS "hostile"

struct fx {
	struct gfsb_ctx *ctx;
	struct gfsb_backend *be;
	struct gfsb_repo *r;
	struct gfsb_repo_io *io;
};

static int
setup(void **state)
{
	struct gfsb_repo_params p;
	struct fx *f = calloc(1, sizeof(*f));

	gfsb_repo_params_default(&p);
	p.kdf_ops = 1;
	p.kdf_mem = 8 << 20;
	p.pack_size = 1 << 20;
	if (f == NULL || gfsb_ctx_new(&f->ctx) != GFSB_OK ||
	    gfsb_backend_mem_new(f->ctx, &f->be) != GFSB_OK ||
	    gfsb_repo_init(f->ctx, f->be, PASS, strlen(PASS), &p, &f->r) !=
	    GFSB_OK || gfsb_repo_io_new(f->r, &f->io) != GFSB_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	gfsb_repo_io_free(f->io);
	gfsb_repo_close(f->r);
	gfsb_backend_close(f->be);
	gfsb_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* ---- a byte builder for hand-made encodings ---- */

static void
u8(struct gfsb_buf *b, uint8_t v)
{
	assert_int_equal(gfsb_buf_put_u8(b, v), GFSB_OK);
}

static void
u16(struct gfsb_buf *b, uint16_t v)
{
	assert_int_equal(gfsb_buf_put_u16(b, v), GFSB_OK);
}

static void
u32(struct gfsb_buf *b, uint32_t v)
{
	assert_int_equal(gfsb_buf_put_u32(b, v), GFSB_OK);
}

static void
u64(struct gfsb_buf *b, uint64_t v)
{
	assert_int_equal(gfsb_buf_put_u64(b, v), GFSB_OK);
}

static void
bytes(struct gfsb_buf *b, const void *p, size_t n)
{
	assert_int_equal(gfsb_buf_append(b, p, n), GFSB_OK);
}

static void
fill(struct gfsb_buf *b, int c, size_t n)
{
	uint8_t z[64];

	memset(z, c, sizeof(z));
	while (n > 0) {
		size_t k = n < sizeof(z) ? n : sizeof(z);

		bytes(b, z, k);
		n -= k;
	}
}

/* ---- pack headers ---- */

static void
packhdr(struct gfsb_buf *b, uint32_t n, uint32_t len, uint32_t raw)
{
	uint32_t i;

	u8(b, 1);
	u32(b, n);
	for (i = 0; i < n; i++) {
		u8(b, GFSB_BLOB_DATA);
		u8(b, 0);
		u16(b, 0);
		u32(b, len);
		u32(b, raw);
		fill(b, (int)i, GFSB_ID_LEN);
	}
}

static void
test_pack_header(void **state)
{
	struct gfsb_buf b;
	struct hdrent *ents = NULL;
	uint64_t size;
	size_t n, i;

	(void)state;
	gfsb_buf_init(&b);
	packhdr(&b, 2, 100, 60);
	size = 200 + b.len + ENV_OVERHEAD + 4;
	assert_int_equal(repo_pack_header_decode(NULL, b.data, b.len, size,
	    &ents, &n), GFSB_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ents[1].offset, 100);
	free(ents);
	for (i = 0; i < b.len; i++)
		assert_int_equal(repo_pack_header_decode(NULL, b.data, i, size,
		    &ents, &n), GFSB_ECORRUPT);
	/* The pack size must match exactly, either way. */
	assert_int_equal(repo_pack_header_decode(NULL, b.data, b.len,
	    size + 1, &ents, &n), GFSB_ECORRUPT);
	assert_int_equal(repo_pack_header_decode(NULL, b.data, b.len,
	    size - 1, &ents, &n), GFSB_ECORRUPT);
	/* A count of 2^32-1 with one entry's bytes: refused, no 180 GiB. */
	b.len = 0;
	packhdr(&b, 1, 100, 60);
	gfsb_le32_put(b.data + 1, UINT32_MAX);
	assert_int_equal(repo_pack_header_decode(NULL, b.data, b.len,
	    UINT64_MAX, &ents, &n), GFSB_ECORRUPT);
	/* No blobs, blobs past the pack, a raw size over the cap. */
	b.len = 0;
	packhdr(&b, 0, 0, 0);
	assert_int_equal(repo_pack_header_decode(NULL, b.data, b.len,
	    b.len + ENV_OVERHEAD + 4, &ents, &n), GFSB_ECORRUPT);
	b.len = 0;
	packhdr(&b, 2, UINT32_MAX, 1);
	assert_int_equal(repo_pack_header_decode(NULL, b.data, b.len,
	    UINT64_MAX, &ents, &n), GFSB_ECORRUPT);
	b.len = 0;
	packhdr(&b, 1, 100, MAX_BLOB_RAW + 1);
	assert_int_equal(repo_pack_header_decode(NULL, b.data, b.len,
	    100 + b.len + ENV_OVERHEAD + 4, &ents, &n), GFSB_ECORRUPT);
	gfsb_buf_fini(&b);
}

/* ---- index files ---- */

static void
test_index(void **state)
{
	struct gfsb_buf b;
	size_t nsup, npacks, nblobs, ndoomed, i;

	(void)state;
	gfsb_buf_init(&b);
	u8(&b, 1);
	u32(&b, 1);
	fill(&b, 0xaa, GFSB_ID_LEN);
	u32(&b, 1);
	fill(&b, 0xbb, GFSB_ID_LEN);
	u32(&b, 2);
	for (i = 0; i < 2; i++) {
		fill(&b, (int)i, GFSB_ID_LEN);
		u8(&b, GFSB_BLOB_TREE);
		u8(&b, GFSB_BLOB_F_ZSTD);
		u16(&b, 0);
		u32(&b, (uint32_t)i * 100);
		u32(&b, 100);
		u32(&b, 1000);
	}
	assert_int_equal(repo_index_decode(b.data, b.len, &nsup, &npacks,
	    &nblobs, &ndoomed, NULL), GFSB_OK);
	assert_int_equal(ndoomed, 0);
	assert_int_equal(nsup, 1);
	assert_int_equal(npacks, 1);
	assert_int_equal(nblobs, 2);
	for (i = 0; i < b.len; i++)
		assert_int_equal(repo_index_decode(b.data, i, NULL, NULL,
		    NULL, NULL, NULL),
		    GFSB_ECORRUPT);
	fill(&b, 0, 1); /* trailing garbage */
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, NULL, NULL,
	    NULL, NULL),
	    GFSB_ECORRUPT);
	/* Absurd counts, each at its place. */
	b.len -= 1;
	gfsb_le32_put(b.data + 1, UINT32_MAX);
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, NULL, NULL,
	    NULL, NULL),
	    GFSB_ECORRUPT);
	gfsb_le32_put(b.data + 1, 1);
	gfsb_le32_put(b.data + 5 + GFSB_ID_LEN, UINT32_MAX);
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, NULL, NULL,
	    NULL, NULL),
	    GFSB_ECORRUPT);
	gfsb_le32_put(b.data + 5 + GFSB_ID_LEN, 1);
	gfsb_le32_put(b.data + 9 + 2 * GFSB_ID_LEN, UINT32_MAX);
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, NULL, NULL,
	    NULL, NULL),
	    GFSB_ECORRUPT);
	/* An entry reaching past 4 GiB. */
	gfsb_le32_put(b.data + 9 + 2 * GFSB_ID_LEN, 2);
	gfsb_le32_put(b.data + b.len - 12, UINT32_MAX - 10);
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, NULL, NULL,
	    NULL, NULL),
	    GFSB_ECORRUPT);
	gfsb_buf_fini(&b);
}


/* Version 2: the packs to delete after the packs, each with its time. */
static void
test_index_doomed(void **state)
{
	struct gfsb_buf b;
	size_t npacks, nblobs, ndoomed, ndblobs, i, at;

	(void)state;
	gfsb_buf_init(&b);
	u8(&b, 2);
	u32(&b, 0);
	u32(&b, 0);	/* no packs */
	u32(&b, 1);	/* one pack to delete */
	fill(&b, 0xcc, GFSB_ID_LEN);
	at = b.len;
	u32(&b, 1767312000);
	u32(&b, 0);
	u32(&b, 1);
	fill(&b, 7, GFSB_ID_LEN);
	u8(&b, GFSB_BLOB_DATA);
	u8(&b, 0);
	u16(&b, 0);
	u32(&b, 0);
	u32(&b, 100);
	u32(&b, 50);
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, &npacks,
	    &nblobs, &ndoomed, &ndblobs), GFSB_OK);
	assert_int_equal(npacks, 0);
	assert_int_equal(ndoomed, 1);
	assert_int_equal(ndblobs, 1);
	for (i = 0; i < b.len; i++)
		assert_int_equal(repo_index_decode(b.data, i, NULL, NULL,
		    NULL, NULL, NULL),
		    GFSB_ECORRUPT);
	/* A version 1 reader's view: the section is trailing garbage. */
	b.data[0] = 1;
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, NULL, NULL,
	    NULL, NULL),
	    GFSB_ECORRUPT);
	b.data[0] = 3;
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, NULL, NULL,
	    NULL, NULL),
	    GFSB_ECORRUPT);
	b.data[0] = 2;
	/* No time, or one before the epoch. */
	gfsb_le32_put(b.data + at, 0);
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, NULL, NULL,
	    NULL, NULL),
	    GFSB_ECORRUPT);
	gfsb_le32_put(b.data + at + 4, UINT32_MAX);
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, NULL, NULL,
	    NULL, NULL),
	    GFSB_ECORRUPT);
	/* Version 2 with nothing to delete is never written. */
	b.len = 0;
	u8(&b, 2);
	u32(&b, 0);
	u32(&b, 0);
	u32(&b, 0);
	assert_int_equal(repo_index_decode(b.data, b.len, NULL, NULL, NULL,
	    NULL, NULL),
	    GFSB_ECORRUPT);
	gfsb_buf_fini(&b);
}

/* ---- trees ---- */

/* A node by hand: kind, name, mode; fifo-like tail unless extra. */
static void
node(struct gfsb_buf *b, uint8_t kind, const char *name, size_t namelen,
    uint32_t mode, uint16_t nxattrs)
{
	u8(b, kind);
	u16(b, (uint16_t)namelen);
	bytes(b, name, namelen);
	u32(b, mode);
	u32(b, 0);
	u32(b, 0);
	u8(b, 4);
	bytes(b, "root", 4);
	u8(b, 0);
	u64(b, 1700000000);
	u32(b, 5);
	u64(b, 1700000000);
	u32(b, 6);
	u64(b, 1);
	u64(b, 2);
	u64(b, 0);
	u64(b, 0); /* size */
	u32(b, 1);
	u16(b, nxattrs);
}

static gfsb_err
decode(const struct gfsb_buf *b)
{
	struct gfsb_tree t;
	gfsb_err e = gfsb_repo_tree_decode(b->data, b->len, &t);

	if (e == GFSB_OK)
		gfsb_repo_tree_fini(&t);
	return e;
}

/* A tree of one node named name[0..len). */
static gfsb_err
one_named(const char *name, size_t len)
{
	struct gfsb_buf b;
	gfsb_err e;

	gfsb_buf_init(&b);
	u8(&b, 1);
	u32(&b, 1);
	node(&b, GFSB_NODE_FIFO, name, len, S_IFIFO | 0644, 0);
	e = decode(&b);
	gfsb_buf_fini(&b);
	return e;
}

static void
test_tree(void **state)
{
	struct gfsb_buf b;
	size_t i, mark;

	(void)state;
	gfsb_buf_init(&b);
	u8(&b, 1);
	u32(&b, 3);
	node(&b, GFSB_NODE_FILE, "a", 1, S_IFREG | 0644, 1);
	u16(&b, 10);
	bytes(&b, "user.note!", 10);
	u32(&b, 2);
	bytes(&b, "hi", 2);
	u32(&b, 1); /* one hole of 0 bytes: size 0 */
	u8(&b, 1);
	u64(&b, 0);
	node(&b, GFSB_NODE_DIR, "b", 1, S_IFDIR | 0755, 0);
	fill(&b, 7, GFSB_ID_LEN);
	node(&b, GFSB_NODE_SYMLINK, "c", 1, S_IFLNK | 0777, 0);
	u32(&b, 3);
	bytes(&b, "../", 3);
	assert_int_equal(decode(&b), GFSB_OK);
	for (i = 0; i < b.len; i++) {
		struct gfsb_buf t = { b.data, i, i };

		assert_int_equal(decode(&t), GFSB_ECORRUPT);
	}
	/* Names that must never reach the file system. */
	assert_int_equal(one_named("x", 1), GFSB_OK);
	assert_int_equal(one_named("..", 2), GFSB_ECORRUPT);
	assert_int_equal(one_named(".", 1), GFSB_ECORRUPT);
	assert_int_equal(one_named("/", 1), GFSB_ECORRUPT);
	assert_int_equal(one_named("a/b", 3), GFSB_ECORRUPT);
	assert_int_equal(one_named("a\0b", 3), GFSB_ECORRUPT);
	assert_int_equal(one_named("", 0), GFSB_ECORRUPT);
	/* Duplicates and disorder (a symlink, then a file of that name). */
	b.len = 0;
	u8(&b, 1);
	u32(&b, 2);
	node(&b, GFSB_NODE_FIFO, "x", 1, S_IFIFO | 0644, 0);
	node(&b, GFSB_NODE_FIFO, "x", 1, S_IFIFO | 0644, 0);
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	b.len = 0;
	u8(&b, 1);
	u32(&b, 2);
	node(&b, GFSB_NODE_FIFO, "y", 1, S_IFIFO | 0644, 0);
	node(&b, GFSB_NODE_FIFO, "x", 1, S_IFIFO | 0644, 0);
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	/* A kind that disagrees with the mode. */
	b.len = 0;
	u8(&b, 1);
	u32(&b, 1);
	node(&b, GFSB_NODE_FIFO, "x", 1, S_IFREG | 0644, 0);
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	/* Absurd counts: nodes, xattrs, extents; an xattr value of 4 GiB. */
	b.len = 0;
	u8(&b, 1);
	u32(&b, UINT32_MAX);
	node(&b, GFSB_NODE_FIFO, "x", 1, S_IFIFO | 0644, 0);
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	b.len = 0;
	u8(&b, 1);
	u32(&b, 1);
	node(&b, GFSB_NODE_FIFO, "x", 1, S_IFIFO | 0644, UINT16_MAX);
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	b.len = 0;
	u8(&b, 1);
	u32(&b, 1);
	node(&b, GFSB_NODE_FIFO, "x", 1, S_IFIFO | 0644, 1);
	u16(&b, 1);
	bytes(&b, "n", 1);
	u32(&b, UINT32_MAX);
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	b.len = 0;
	u8(&b, 1);
	u32(&b, 1);
	node(&b, GFSB_NODE_FILE, "x", 1, S_IFREG | 0644, 0);
	u32(&b, UINT32_MAX);
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	/* Extents that do not add up to the size, or overflow doing so. */
	b.len = 0;
	u8(&b, 1);
	u32(&b, 1);
	node(&b, GFSB_NODE_FILE, "x", 1, S_IFREG | 0644, 0);
	mark = b.len;
	u32(&b, 2);
	u8(&b, 1);
	u64(&b, UINT64_MAX);
	u8(&b, 1);
	u64(&b, 2);
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	b.len = mark;
	u32(&b, 1);
	u8(&b, 1);
	u64(&b, 5); /* size says 0 */
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	/* A symlink target of 0 bytes, or longer than allowed. */
	b.len = 0;
	u8(&b, 1);
	u32(&b, 1);
	node(&b, GFSB_NODE_SYMLINK, "x", 1, S_IFLNK | 0777, 0);
	mark = b.len;
	u32(&b, 0);
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	b.len = mark;
	u32(&b, GFSB_TREE_MAX_TARGET + 1);
	fill(&b, 'a', GFSB_TREE_MAX_TARGET + 1);
	assert_int_equal(decode(&b), GFSB_ECORRUPT);
	gfsb_buf_fini(&b);
}

/* ---- JSON: snapshots, key files, config ---- */

static gfsb_err
snap(const char *json)
{
	struct gfsb_snapshot *s = calloc(1, sizeof(*s));
	gfsb_err e;

	assert_non_null(s);
	e = repo_snapshot_decode((const uint8_t *)json, strlen(json), s);
	gfsb_repo_snapshot_free(s);
	return e;
}

#define TREE64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_snapshot(void **state)
{
	const char *ok = "{\"version\":1,\"time\":\"2026-01-02T03:04:05Z\","
	    "\"tree\":\"" TREE64 "\",\"paths\":[\"/etc\"],\"hostname\":\"h\","
	    "\"username\":\"u\",\"uid\":0,\"gid\":0,\"tags\":[\"daily\"],"
	    "\"summary\":{\"backup_start\":\"2026-01-02T03:04:05Z\","
	    "\"backup_end\":\"2026-01-02T03:04:06Z\",\"files_new\":1}}";
	char cut[1024];
	size_t i;

	(void)state;
	assert_int_equal(snap(ok), GFSB_OK);
	for (i = 0; i < strlen(ok); i++) {
		snprintf(cut, sizeof(cut), "%.*s", (int)i, ok);
		assert_int_not_equal(snap(cut), GFSB_OK);
	}
	assert_int_equal(snap("{\"version\":2,\"time\":\"2026-01-02T03:04:05Z\","
	    "\"tree\":\"" TREE64 "\",\"paths\":[],\"hostname\":\"h\","
	    "\"username\":\"u\"}"), GFSB_EUNSUPPORTED);
	assert_int_equal(snap("{\"version\":1,\"time\":\"2026-01-02T03:04:05Z\","
	    "\"tree\":\"" TREE64 "\",\"paths\":[1],\"hostname\":\"h\","
	    "\"username\":\"u\"}"), GFSB_ECORRUPT);
	assert_int_equal(snap("{\"version\":1,\"time\":\"2026-01-02T03:04:05Z\","
	    "\"tree\":\"" TREE64 "\",\"paths\":[],\"hostname\":\"h\","
	    "\"username\":\"u\",\"uid\":-1}"), GFSB_ECORRUPT);
	assert_int_equal(snap("{\"version\":1,\"time\":\"2026-01-02T03:04:05Z\","
	    "\"tree\":\"" TREE64 "\",\"paths\":[],\"hostname\":\"h\","
	    "\"username\":\"u\",\"uid\":99999999999999999999999}"),
	    GFSB_ECORRUPT);
	assert_int_equal(snap("{\"version\":1,\"time\":\"9999-99-99T99:99:99Z\","
	    "\"tree\":\"" TREE64 "\",\"paths\":[],\"hostname\":\"h\","
	    "\"username\":\"u\"}"), GFSB_ECORRUPT);
	assert_int_equal(snap("{\"version\":1,\"time\":\"2026-01-02T03:04:05Z\","
	    "\"tree\":\"" TREE64 "\",\"paths\":[\"a\\u0000b\"],"
	    "\"hostname\":\"h\",\"username\":\"u\"}"), GFSB_ECORRUPT);
	assert_int_equal(snap("{\"version\":1,\"version\":1}"), GFSB_ECORRUPT);
	assert_int_equal(snap("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["),
	    GFSB_ECORRUPT);
}

static gfsb_err
keyfile(const char *ops, const char *mem)
{
	char text[1024];
	uint64_t o, m;

	snprintf(text, sizeof(text), "{\"version\":1,\"created\":\"x\","
	    "\"kdf\":\"argon2id\",\"opslimit\":%s,\"memlimit\":%s,"
	    "\"salt\":\"00112233445566778899aabbccddeeff\",\"data\":\"%0208d\"}",
	    ops, mem, 0);
	return repo_keyfile_decode((const uint8_t *)text, strlen(text), &o, &m);
}

static void
test_keyfile(void **state)
{
	(void)state;
	assert_int_equal(keyfile("3", "67108864"), GFSB_OK);
	/* A planted key file must not make us spin or allocate without
	 * bound before the passphrase is even tried. */
	assert_int_equal(keyfile("65", "67108864"), GFSB_ECORRUPT);
	assert_int_equal(keyfile("0", "67108864"), GFSB_ECORRUPT);
	assert_int_equal(keyfile("3", "4294967297"), GFSB_ECORRUPT);
	assert_int_equal(keyfile("3", "9223372036854775807"), GFSB_ECORRUPT);
	assert_int_equal(keyfile("3", "-1"), GFSB_ECORRUPT);
	assert_int_equal(keyfile("3", "1024"), GFSB_ECORRUPT);
	assert_int_equal(keyfile("\"3\"", "67108864"), GFSB_ECORRUPT);
	assert_int_equal(repo_keyfile_decode((const uint8_t *)"{", 1, NULL,
	    NULL), GFSB_ECORRUPT);
}

static gfsb_err
config(struct fx *f, const char *chunker, long long pack, int comp)
{
	struct gfsb_repo_params p;
	char text[1024], id[GFSB_ID_HEX];
	uint8_t seed[GFSB_KEY_LEN];

	gfsb_repo_params_default(&p);
	snprintf(text, sizeof(text), "{\"version\":1,\"id\":\"" TREE64 "\","
	    "\"chunker\":{%s,\"seed\":\"" TREE64 "\"},\"compression\":%d,"
	    "\"pack_size\":%lld}", chunker, comp, pack);
	return repo_config_decode(f->ctx, (const uint8_t *)text, strlen(text),
	    id, &p, seed);
}

static void
test_config(void **state)
{
	struct fx *f = *state;
	const char *good = "\"min\":524288,\"avg\":1048576,\"max\":8388608";

	assert_int_equal(config(f, good, 16 << 20, 3), GFSB_OK);
	/* Sizes that would make every later allocation absurd. */
	assert_int_equal(config(f, "\"min\":524288,\"avg\":1048576,"
	    "\"max\":1099511627776", 16 << 20, 3), GFSB_ECORRUPT);
	assert_int_equal(config(f, "\"min\":0,\"avg\":1,\"max\":2", 16 << 20,
	    3), GFSB_ECORRUPT);
	assert_int_equal(config(f, "\"min\":524288,\"avg\":1000000,"
	    "\"max\":8388608", 16 << 20, 3), GFSB_ECORRUPT);
	assert_int_equal(config(f, good, 0, 3), GFSB_ECORRUPT);
	assert_int_equal(config(f, good, 1LL << 40, 3), GFSB_ECORRUPT);
	assert_int_equal(config(f, good, 16 << 20, 99), GFSB_ECORRUPT);
	assert_int_equal(config(f, good, 16 << 20, -1), GFSB_ECORRUPT);
	gfsb_ctx_clearerr(f->ctx);
}

/* ---- sealed objects and compression bombs ---- */

/* Seal plain as an envelope of kind with the flags given, bypassing the
 * writer's choices (as someone holding the key could). */
static void
seal(struct fx *f, enum env_kind kind, uint8_t flags, const uint8_t *plain,
    size_t n, struct gfsb_buf *out)
{
	uint8_t hdr[ENV_HDR_LEN] = { 'G', 'F', 'S', 'B', GFSB_FORMAT_VERSION,
	    (uint8_t)kind, flags, 0 };

	out->len = 0;
	assert_int_equal(gfsb_buf_reserve(out, ENV_OVERHEAD + n), GFSB_OK);
	memcpy(out->data, hdr, ENV_HDR_LEN);
	gfsb_crypto_seal(f->r->keys, out->data + ENV_HDR_LEN, plain, n, hdr,
	    ENV_HDR_LEN);
	out->len = ENV_OVERHEAD + n;
}

/* A zstd frame of `raw` zero bytes, then claimed to be `claim` bytes. */
static void
bomb(struct gfsb_buf *plain, size_t raw, uint32_t claim)
{
	struct gfsb_compress *z;
	uint8_t *src = calloc(1, raw);
	size_t clen;

	assert_non_null(src);
	assert_int_equal(gfsb_compress_new(19, &z), GFSB_OK);
	plain->len = 0;
	assert_int_equal(gfsb_buf_reserve(plain, 4 + gfsb_compress_bound(raw)),
	    GFSB_OK);
	assert_int_equal(gfsb_compress_blob(z, src, raw, plain->data + 4,
	    plain->cap - 4, &clen), GFSB_OK);
	assert_true(clen > 0);
	gfsb_le32_put(plain->data, claim);
	plain->len = 4 + clen;
	gfsb_compress_free(z);
	free(src);
}

static void
test_zstd_claims(void **state)
{
	struct fx *f = *state;
	struct gfsb_buf plain, sealed, out;

	gfsb_buf_init(&plain);
	gfsb_buf_init(&sealed);
	gfsb_buf_init(&out);
	/* Honest: 1 MiB of zeros in a few hundred bytes opens. */
	bomb(&plain, 1 << 20, 1 << 20);
	seal(f, ENV_SNAPSHOT, ENV_F_ZSTD, plain.data, plain.len, &sealed);
	assert_int_equal(repo_obj_open(f->r, ENV_SNAPSHOT, "t", sealed.data,
	    sealed.len, MAX_SNAPSHOT, &out), GFSB_OK);
	assert_int_equal(out.len, 1 << 20);
	/* Claims 4 GiB: refused before anything is allocated for it. */
	gfsb_buf_fini(&out);
	bomb(&plain, 1 << 20, UINT32_MAX);
	seal(f, ENV_INDEX, ENV_F_ZSTD, plain.data, plain.len, &sealed);
	assert_int_equal(repo_obj_open(f->r, ENV_INDEX, "t", sealed.data,
	    sealed.len, MAX_INDEX, &out), GFSB_ECORRUPT);
	assert_true(out.cap < (2U << 20));
	/* Claims less, or more, than the frame holds. */
	bomb(&plain, 1 << 20, (1 << 20) - 1);
	seal(f, ENV_SNAPSHOT, ENV_F_ZSTD, plain.data, plain.len, &sealed);
	assert_int_equal(repo_obj_open(f->r, ENV_SNAPSHOT, "t", sealed.data,
	    sealed.len, MAX_SNAPSHOT, &out), GFSB_ECORRUPT);
	bomb(&plain, 1 << 20, 2 << 20);
	seal(f, ENV_SNAPSHOT, ENV_F_ZSTD, plain.data, plain.len, &sealed);
	assert_int_equal(repo_obj_open(f->r, ENV_SNAPSHOT, "t", sealed.data,
	    sealed.len, MAX_SNAPSHOT, &out), GFSB_ECORRUPT);
	/* Over a kind's cap (config: 64 KiB), compressed or not. */
	bomb(&plain, 1 << 20, 1 << 20);
	seal(f, ENV_CONFIG, ENV_F_ZSTD, plain.data, plain.len, &sealed);
	assert_int_equal(repo_obj_open(f->r, ENV_CONFIG, "t", sealed.data,
	    sealed.len, MAX_CONFIG, &out), GFSB_ECORRUPT);
	/* An envelope passed off as another kind, or with unknown flags. */
	seal(f, ENV_SNAPSHOT, 0, plain.data, 100, &sealed);
	assert_int_equal(repo_obj_open(f->r, ENV_INDEX, "t", sealed.data,
	    sealed.len, MAX_INDEX, &out), GFSB_ECORRUPT);
	seal(f, ENV_SNAPSHOT, 0x80, plain.data, 100, &sealed);
	assert_int_equal(repo_obj_open(f->r, ENV_SNAPSHOT, "t", sealed.data,
	    sealed.len, MAX_SNAPSHOT, &out), GFSB_ECORRUPT);
	gfsb_ctx_clearerr(f->ctx);
	gfsb_buf_fini(&plain);
	gfsb_buf_fini(&sealed);
	gfsb_buf_fini(&out);
}

/*
 * Found by fuzz_sealed_object: a blob whose location claims a large raw
 * length made gfsb_repo_blob_open reserve it (up to 256 MiB) before the
 * MAC was checked.  Now a forged blob costs only its own bytes.
 */
static const uint8_t forged_blob[] = {
	0x42, 0x4c, 0x4f, 0x42, /* "BLOB" (fuzz_sealed_object's framing) */
	0x0a, 0xfc, 0x5b, 0x06, 0xaf, 0x72, 0xe9, 0x48, 0x11, 0x22, 0x33,
	0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
	0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* id */
	0x01,			/* type: tree */
	0x01,			/* flags: zstd */
	0x00, 0x00, 0x00, 0x0f, /* raw length: 240 MiB */
	/* sealed bytes (nonce, a zstd frame's worth, tag) */
	0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void
test_blob_forged_sizes(void **state)
{
	struct fx *f = *state;
	struct gfsb_blob_loc loc;
	struct gfsb_buf out;
	const uint8_t *p = forged_blob;
	size_t prefix = 4 + GFSB_ID_LEN + 1 + 1 + 4;

	gfsb_buf_init(&out);
	memset(&loc, 0, sizeof(loc));
	loc.type = p[4 + GFSB_ID_LEN];
	loc.flags = p[4 + GFSB_ID_LEN + 1];
	loc.raw_length = gfsb_le32_get(p + 4 + GFSB_ID_LEN + 2);
	loc.length = (uint32_t)(sizeof(forged_blob) - prefix);
	assert_int_equal(gfsb_repo_blob_open(f->io, &loc, p + 4, p + prefix,
	    &out), GFSB_ECORRUPT);
	assert_true(out.cap < 4096);
	/* Raw, the sizes must agree before anything is reserved. */
	loc.flags = 0;
	assert_int_equal(gfsb_repo_blob_open(f->io, &loc, p + 4, p + prefix,
	    &out), GFSB_ECORRUPT);
	assert_true(out.cap < 4096);
	/* Over the cap, or shorter than a seal. */
	loc.raw_length = MAX_BLOB_RAW + 1;
	assert_int_equal(gfsb_repo_blob_open(f->io, &loc, p + 4, p + prefix,
	    &out), GFSB_ECORRUPT);
	loc.raw_length = 1;
	loc.length = GFSB_SEAL_OVERHEAD - 1;
	assert_int_equal(gfsb_repo_blob_open(f->io, &loc, p + 4, p + prefix,
	    &out), GFSB_ECORRUPT);
	gfsb_ctx_clearerr(f->ctx);
	gfsb_buf_fini(&out);
}

/* ---- S3 XML ---- */

static void
test_s3_xml(void **state)
{
	const char *page = "<?xml version=\"1.0\"?><ListBucketResult>"
	    "<IsTruncated>true</IsTruncated><NextContinuationToken>t"
	    "</NextContinuationToken><Contents><Key>p/config</Key><Size>3"
	    "</Size></Contents></ListBucketResult>";
	const char *laughs = "<?xml version=\"1.0\"?><!DOCTYPE l ["
	    "<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">"
	    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
	    "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
	    "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
	    "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
	    "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
	    "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">"
	    "]><ListBucketResult><Contents><Key>&g;</Key></Contents>"
	    "</ListBucketResult>";
	struct s3_list_page pg;
	struct gfsb_buf b;
	char code[32], msg[32];
	size_t i;

	(void)state;
	assert_int_equal(s3_xml_list(page, strlen(page), &pg), 0);
	assert_int_equal(pg.n, 1);
	s3_xml_list_fini(&pg);
	for (i = 0; i < strlen(page); i++)
		assert_int_equal(s3_xml_list(page, i, &pg), -1);
	/* Truncated without a token: the caller would list forever. */
	assert_int_equal(s3_xml_list("<ListBucketResult><IsTruncated>true"
	    "</IsTruncated></ListBucketResult>", 63, &pg), -1);
	/* A billion laughs: expat's amplification limit stops it. */
	assert_int_equal(s3_xml_list(laughs, strlen(laughs), &pg), -1);
	/* Deep nesting, a key longer than any S3 key, long error texts. */
	gfsb_buf_init(&b);
	for (i = 0; i < 100000; i++)
		bytes(&b, "<a>", 3);
	assert_int_equal(s3_xml_list((const char *)b.data, b.len, &pg), -1);
	b.len = 0;
	bytes(&b, "<Error><Code>", 13);
	fill(&b, 'C', 100000);
	bytes(&b, "</Code><Message>", 16);
	fill(&b, 'M', 100);
	bytes(&b, "</Message></Error>", 18);
	s3_xml_error((const char *)b.data, b.len, code, sizeof(code), msg,
	    sizeof(msg));
	assert_string_equal(code, "");
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
	gfsb_buf_fini(&b);
	assert_int_equal(s3_xml_upload_id("<I><UploadId></UploadId></I>", 28,
	    code, sizeof(code)), -1);
}

/* ---- policy files ---- */

static gfsb_err
policy(struct fx *f, const char *text)
{
	char path[] = "/tmp/gfsb-hostile-XXXXXX";
	struct gfsb_policy *p = NULL;
	gfsb_err e;
	int fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	e = gfsb_gfs_policy_load(f->ctx, path, &p);
	unlink(path);
	gfsb_gfs_policy_free(p);
	gfsb_ctx_clearerr(f->ctx);
	return e;
}

static void
test_policy(void **state)
{
	struct fx *f = *state;
	struct gfsb_policy *p = NULL;

	assert_int_equal(policy(f, "keep-daily = 7\n"), GFSB_OK);
	assert_int_equal(policy(f, "keep-daily = 99999999999999999999\n"),
	    GFSB_EINVAL);
	assert_int_equal(policy(f, "keep-daily = -1\n"), GFSB_EINVAL);
	assert_int_equal(policy(f, "keep-within = 100001y\n"), GFSB_EINVAL);
	assert_int_equal(policy(f, "keep-within = 1y-1d\n"), GFSB_EINVAL);
	assert_int_equal(policy(f, "keep-tag = ,,, ,\n"), GFSB_EINVAL);
	assert_int_equal(policy(f, "[s]\nkeep-daily = 1\n"), GFSB_EINVAL);
	assert_int_equal(policy(f, "keep-daily = 1\nkeep-daily = 2\n"),
	    GFSB_EINVAL);
	/* Not a regular file: /dev/zero used to keep the parser reading
	 * NUL bytes forever. */
	assert_int_equal(gfsb_gfs_policy_load(f->ctx, "/dev/zero", &p),
	    GFSB_EINVAL);
	gfsb_ctx_clearerr(f->ctx);
	/* A FIFO with no writer used to block in open() forever. */
	{
		char fifo[] = "/tmp/gfsb-hostile-fifo.XXXXXX";
		int fd = mkstemp(fifo);

		assert_true(fd >= 0);
		close(fd);
		unlink(fifo);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(gfsb_gfs_policy_load(f->ctx, fifo, &p),
		    GFSB_EINVAL);
		gfsb_ctx_clearerr(f->ctx);
		unlink(fifo);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_header),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_index_doomed),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_keyfile),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zstd_claims, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_blob_forged_sizes, setup,
		    teardown),
		cmocka_unit_test(test_s3_xml),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
