/*
 * gfsb_fuzz_seedgen REPO PASSPHRASE OUTDIR: dump a real repository (made
 * by make_seeds.sh with the real binary) as the fuzz targets' seeds:
 * OUTDIR/repo (its key files and config: the fixed repository of the
 * sealed targets), the sealed objects as they are stored, and their
 * plaintexts (decrypted with the passphrase).  Objects of 64 KiB or more
 * are skipped: seeds stay small.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/util.h>

#include "repo/repo_internal.h"

#define SEED_MAX (64U << 10)

static const char *outdir;
static struct gfsb_repo *repo;
static struct gfsb_repo_io *io;
static struct gfsb_backend *be;

static void
die(const char *what)
{
	fprintf(stderr, "gfsb_fuzz_seedgen: %s\n", what);
	exit(1);
}

/* Write OUTDIR/dir/name (dir created), unless it is too big for a seed. */
static void
seed(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	if (n >= SEED_MAX)
		return;
	snprintf(path, sizeof(path), "%s/%s", outdir, dir);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n ||
	    fclose(f) != 0)
		die(path);
}

static void
add(struct gfsb_buf *b, const void *p, size_t n)
{
	if (gfsb_buf_append(b, p, n) != GFSB_OK)
		die("out of memory");
}

static void
get(enum gfsb_obj type, const char *name, struct gfsb_buf *b)
{
	b->len = 0;
	if (gfsb_backend_get(be, type, name, b) != GFSB_OK)
		die(name);
}

/* Every object of a sealed kind: as stored, and its plaintext. */
static void
sealed_kind(enum gfsb_obj type, enum env_kind kind, size_t cap,
    const char *plaindir, const char *prefix)
{
	struct gfsb_objlist l;
	struct gfsb_buf raw, plain;
	char name[64];
	size_t i;

	gfsb_buf_init(&raw);
	gfsb_buf_init(&plain);
	if (gfsb_backend_list_all(be, type, &l) != GFSB_OK)
		die("list");
	for (i = 0; i < l.n; i++) {
		get(type, l.v[i].name, &raw);
		snprintf(name, sizeof(name), "%s-%.16s", prefix, l.v[i].name);
		seed("sealed_object", name, raw.data, raw.len);
		if (repo_obj_open(repo, kind, l.v[i].name, raw.data, raw.len,
		    cap, &plain) != GFSB_OK)
			die(l.v[i].name);
		snprintf(name, sizeof(name), "%.16s", l.v[i].name);
		seed(plaindir, name, plain.data, plain.len);
	}
	gfsb_objlist_fini(&l);
	gfsb_buf_fini(&raw);
	gfsb_buf_fini(&plain);
}

/* A pack: whole, its header (sealed and plain), its blobs. */
static void
pack(const struct gfsb_objent *o)
{
	struct gfsb_buf raw, plain, b, out;
	struct gfsb_blob_loc loc;
	struct hdrent *ents;
	char name[64];
	size_t nents, i;
	uint32_t hlen;
	uint8_t le[8];
	int k;

	gfsb_buf_init(&raw);
	gfsb_buf_init(&plain);
	gfsb_buf_init(&b);
	gfsb_buf_init(&out);
	get(GFSB_OBJ_PACK, o->name, &raw);
	snprintf(name, sizeof(name), "%.16s", o->name);
	seed("pack", name, raw.data, raw.len);
	hlen = gfsb_le32_get(raw.data + raw.len - 4);
	snprintf(name, sizeof(name), "packhdr-%.16s", o->name);
	seed("sealed_object", name, raw.data + raw.len - 4 - hlen, hlen);
	if (repo_obj_open(repo, ENV_PACKHDR, o->name, raw.data + raw.len - 4 -
	    hlen, hlen, MAX_PACKHDR, &plain) != GFSB_OK ||
	    repo_pack_header_decode(repo, plain.data, plain.len, raw.len,
	    &ents, &nents) != GFSB_OK)
		die(o->name);
	for (k = 0; k < 8; k++)
		le[k] = (uint8_t)((uint64_t)raw.len >> (8 * k));
	add(&b, le, 8);
	add(&b, plain.data, plain.len);
	snprintf(name, sizeof(name), "%.16s", o->name);
	seed("pack_header", name, b.data, b.len);
	for (i = 0; i < nents; i++) {
		char idhex[GFSB_ID_HEX];

		memset(&loc, 0, sizeof(loc));
		memcpy(loc.pack, o->id, GFSB_ID_LEN);
		loc.offset = ents[i].offset;
		loc.length = ents[i].length;
		loc.raw_length = ents[i].raw_length;
		loc.type = ents[i].type;
		loc.flags = ents[i].flags;
		gfsb_hex_encode(ents[i].id, GFSB_ID_LEN, idhex);
		b.len = 0;
		for (k = 0; k < 4; k++)
			le[k] = (uint8_t)(loc.raw_length >> (8 * k));
		add(&b, "BLOB", 4);
		add(&b, ents[i].id, GFSB_ID_LEN);
		add(&b, &loc.type, 1);
		add(&b, &loc.flags, 1);
		add(&b, le, 4);
		add(&b, raw.data + loc.offset, loc.length);
		snprintf(name, sizeof(name), "blob-%.16s", idhex);
		seed("sealed_object", name, b.data, b.len);
		if (gfsb_repo_blob_open(io, &loc, ents[i].id, raw.data +
		    loc.offset, &out) != GFSB_OK)
			die(idhex);
		if (loc.type == GFSB_BLOB_TREE) {
			snprintf(name, sizeof(name), "%.16s", idhex);
			seed("tree", name, out.data, out.len);
		}
	}
	free(ents);
	gfsb_buf_fini(&raw);
	gfsb_buf_fini(&plain);
	gfsb_buf_fini(&b);
	gfsb_buf_fini(&out);
}

int
main(int argc, char **argv)
{
	struct gfsb_ctx *ctx;
	struct gfsb_objlist l;
	struct gfsb_buf raw, plain;
	char path[4096];
	const char *lock = "{\"time\":\"2026-01-02T03:04:05.000000000Z\","
	    "\"exclusive\":false,\"hostname\":\"web1\",\"username\":\"root\","
	    "\"pid\":1234,\"uid\":0,\"gid\":0}";
	size_t i;

	if (argc != 4)
		die("usage: gfsb_fuzz_seedgen REPO PASSPHRASE OUTDIR");
	outdir = argv[3];
	gfsb_buf_init(&raw);
	gfsb_buf_init(&plain);
	if (gfsb_ctx_new(&ctx) != GFSB_OK ||
	    gfsb_backend_open(ctx, argv[1], &be) != GFSB_OK ||
	    gfsb_repo_open(ctx, be, argv[2], strlen(argv[2]), &repo) !=
	    GFSB_OK || gfsb_repo_io_new(repo, &io) != GFSB_OK)
		die(gfsb_ctx_errmsg(ctx));

	/* The fixed repository: key files and config, as stored. */
	snprintf(path, sizeof(path), "%s/repo", outdir);
	mkdir(path, 0755);
	if (gfsb_backend_list_all(be, GFSB_OBJ_KEY, &l) != GFSB_OK)
		die("list keys");
	for (i = 0; i < l.n; i++) {
		get(GFSB_OBJ_KEY, l.v[i].name, &raw);
		seed("repo/keys", l.v[i].name, raw.data, raw.len);
		seed("keyfile", l.v[i].name, raw.data, raw.len);
	}
	gfsb_objlist_fini(&l);
	get(GFSB_OBJ_CONFIG, "config", &raw);
	seed("repo", "config", raw.data, raw.len);
	seed("sealed_object", "config", raw.data, raw.len);
	if (repo_obj_open(repo, ENV_CONFIG, "config", raw.data, raw.len,
	    MAX_CONFIG, &plain) != GFSB_OK)
		die("config");
	seed("config", "config", plain.data, plain.len);

	sealed_kind(GFSB_OBJ_INDEX, ENV_INDEX, MAX_INDEX, "index", "index");
	sealed_kind(GFSB_OBJ_SNAPSHOT, ENV_SNAPSHOT, MAX_SNAPSHOT, "snapshot",
	    "snapshot");
	/* A lock, sealed here: none is left behind by a finished backup. */
	raw.len = 0;
	if (repo_obj_seal(repo, ENV_LOCK, (const uint8_t *)lock, strlen(lock),
	    &raw) != GFSB_OK)
		die("lock");
	seed("sealed_object", "lock", raw.data, raw.len);

	if (gfsb_backend_list_all(be, GFSB_OBJ_PACK, &l) != GFSB_OK)
		die("list packs");
	for (i = 0; i < l.n; i++)
		if (l.v[i].size < SEED_MAX)
			pack(&l.v[i]);
	gfsb_objlist_fini(&l);

	gfsb_buf_fini(&raw);
	gfsb_buf_fini(&plain);
	gfsb_repo_io_free(io);
	gfsb_repo_close(repo);
	gfsb_backend_close(be);
	gfsb_ctx_free(ctx);
	return 0;
}
