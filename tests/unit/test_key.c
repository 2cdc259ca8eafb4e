/*
 * key (gfsb_ops_key) on an in-memory repository: the table, a key added
 * and the passphrases that open the repository after each change, a
 * change refused while another process holds a lock, the key in use
 * never removed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "fixture.h"
#include "repo/repo_internal.h"

#define PASS "key pass"

/* The lines told, each ending in '\n'. */
struct told {
	char all[4096];
	size_t n;
};

static void
collect(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	struct told *t = cookie;

	assert_int_equal(kind, GFSB_OPS_LINE_RESULT);
	t->n++;
	strncat(t->all, line, sizeof(t->all) - strlen(t->all) - 2);
	strcat(t->all, "\n");
}

/* Does pass open x's repository? */
static gfsb_err
opens(struct fx_repo *x, const char *pass)
{
	struct gfsb_repo *r = NULL;
	gfsb_err e = gfsb_repo_open(x->ctx, x->be, pass, strlen(pass), &r);

	gfsb_repo_close(r);
	gfsb_ctx_clearerr(x->ctx);
	return e;
}

static gfsb_err
key(struct fx_repo *x, enum gfsb_key_verb verb, const char *arg,
    struct told *t)
{
	struct gfsb_key_opts o = { .verb = verb };

	memset(t, 0, sizeof(*t));
	if (verb == GFSB_KEY_REMOVE)
		o.id = arg;
	else if (arg != NULL) {
		o.pass = arg;
		o.passlen = strlen(arg);
	}
	return gfsb_ops_key(x->r, &o, collect, t);
}

/* gfsbackup key's arguments: each refusal's line, and what is taken. */
static void
key_args(void)
{
	static const struct {
		const char *args[3];
		int write_only;
		const char *why;
	} bad[] = {
		{ { NULL }, 0, "give passwd, add, list or remove" },
		{ { "delete", NULL }, 0, "unknown key command delete" },
		{ { "remove", NULL }, 0, "key remove takes one key id" },
		{ { "remove", "a", "b" }, 0, "key remove takes one key id" },
		{ { "list", "x", NULL }, 0, "unexpected argument x" },
		{ { "passwd", NULL }, 1, "--write-only goes with key add" },
	};
	struct gfsb_key_opts o;
	struct gfsb_ctx *ctx;
	const char *add[1] = { "add" }, *rm[2] = { "remove", "3f2a" };
	size_t i, n;

	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (n = 0; n < 3 && bad[i].args[n] != NULL; n++)
			;
		memset(&o, 0, sizeof(o));
		o.write_only = bad[i].write_only;
		gfsb_ctx_clearerr(ctx);
		assert_int_equal(gfsb_ops_key_args(ctx, bad[i].args, n, &o),
		    GFSB_EINVAL);
		assert_string_equal(gfsb_ctx_errmsg(ctx), bad[i].why);
	}
	memset(&o, 0, sizeof(o));
	o.write_only = 1;
	assert_int_equal(gfsb_ops_key_args(ctx, add, 1, &o), GFSB_OK);
	assert_int_equal(o.verb, GFSB_KEY_ADD);
	assert_null(o.id);
	assert_int_equal(gfsb_ops_key_args(ctx, rm, 2, &o), GFSB_EINVAL);
	o.write_only = 0;
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_ops_key_args(ctx, rm, 2, &o), GFSB_OK);
	assert_int_equal(o.verb, GFSB_KEY_REMOVE);
	assert_string_equal(o.id, "3f2a");
	gfsb_ctx_free(ctx);
}

static void
test_key_verbs(void **state)
{
	enum gfsb_key_verb v;

	(void)state;
	assert_int_equal(gfsb_ops_key_verb_parse("list", &v), GFSB_OK);
	assert_int_equal(v, GFSB_KEY_LIST);
	assert_int_equal(gfsb_ops_key_verb_parse("remove", &v), GFSB_OK);
	assert_int_equal(v, GFSB_KEY_REMOVE);
	assert_int_equal(gfsb_ops_key_verb_parse("delete", &v), GFSB_EINVAL);
	key_args();
	assert_int_equal(gfsb_ops_key_verb_parse("", &v), GFSB_EINVAL);
}

static void
test_add_list_remove(void **state)
{
	struct fx_repo x;
	struct gfsb_lock *lock;
	struct told t;
	char other[16], mine[16], *star;

	(void)state;
	fx_repo_new(&x, PASS, 0);
	assert_int_equal(key(&x, GFSB_KEY_ADD, "second", &t), GFSB_OK);
	assert_int_equal(t.n, 1);
	assert_int_equal(strncmp(t.all, "key ", 4), 0);
	assert_non_null(strstr(t.all, " added\n"));
	memcpy(other, t.all + 4, 8);
	other[8] = '\0';
	assert_int_equal(opens(&x, "second"), GFSB_OK);
	assert_int_equal(opens(&x, PASS), GFSB_OK);

	/* The table: a heading, two keys, the one in use starred. */
	assert_int_equal(key(&x, GFSB_KEY_LIST, NULL, &t), GFSB_OK);
	assert_int_equal(t.n, 3);
	assert_non_null(strstr(t.all, other));
	assert_non_null(star = strstr(t.all, "\n* "));
	memcpy(mine, star + 3, 8);
	mine[8] = '\0';
	assert_string_not_equal(mine, other);

	/* Never the key in use; a change waits for no lock. */
	assert_int_equal(key(&x, GFSB_KEY_REMOVE, mine, &t), GFSB_EINVAL);
	assert_int_equal(t.n, 0);
	assert_int_equal(gfsb_repo_lock(x.r, GFSB_REPO_LOCK_SHARED, &lock),
	    GFSB_OK);
	assert_int_equal(key(&x, GFSB_KEY_REMOVE, other, &t), GFSB_ELOCKED);
	gfsb_repo_unlock(lock);
	assert_int_equal(opens(&x, "second"), GFSB_OK);
	gfsb_ctx_clearerr(x.ctx);

	/* Revoked: the other passphrase opens nothing after. */
	assert_int_equal(key(&x, GFSB_KEY_REMOVE, other, &t), GFSB_OK);
	assert_int_equal(strncmp(t.all + 4, other, 8), 0);
	assert_string_equal(t.all + 12, " removed\n");
	assert_int_equal(opens(&x, "second"), GFSB_EAUTH);
	assert_int_equal(key(&x, GFSB_KEY_REMOVE, "ffffffff", &t),
	    GFSB_ENOTFOUND);
	fx_repo_free(&x);
}

static void
test_passwd(void **state)
{
	struct fx_repo x;
	struct told t;

	(void)state;
	fx_repo_new(&x, PASS, 0);
	assert_int_equal(key(&x, GFSB_KEY_PASSWD, "changed", &t), GFSB_OK);
	assert_string_equal(t.all, "passphrase changed\n");
	assert_int_equal(opens(&x, "changed"), GFSB_OK);
	assert_int_equal(opens(&x, PASS), GFSB_EAUTH);
	/* Nobody told: the change is still made. */
	{
		struct gfsb_key_opts o = { .verb = GFSB_KEY_PASSWD,
		    .pass = "third", .passlen = 5 };

		assert_int_equal(gfsb_ops_key(x.r, &o, NULL, NULL), GFSB_OK);
	}
	assert_int_equal(opens(&x, "third"), GFSB_OK);
	fx_repo_free(&x);
}

/* Does any 32-byte window of p[0..n) open the envelope obj? */
static int
any_window_opens(const uint8_t *p, size_t n, const struct gfsb_buf *obj)
{
	uint8_t out[4096];
	size_t i;

	assert_true(obj->len - ENV_HDR_LEN - GFSB_SEAL_OVERHEAD <= sizeof(out));
	for (i = 0; i + GFSB_KEY_LEN <= n; i++)
		if (gfsb_crypto_open_with(p + i, out, obj->data + ENV_HDR_LEN,
		    obj->len - ENV_HDR_LEN, obj->data, ENV_HDR_LEN) == GFSB_OK)
			return 1;
	return 0;
}

/* The first object of a type, whole. */
static void
first_object(struct fx_repo *x, enum gfsb_obj type, struct gfsb_buf *b)
{
	struct gfsb_objlist l;

	assert_int_equal(gfsb_backend_list_all(x->be, type, &l), GFSB_OK);
	assert_true(l.n > 0);
	gfsb_buf_init(b);
	assert_int_equal(gfsb_backend_get(x->be, type, l.v[0].name, b),
	    GFSB_OK);
	gfsb_objlist_fini(&l);
}

/* The newest index file's name (the one written last). */
static void
index_written_after(struct fx_repo *x, const struct gfsb_objlist *before,
    char name[GFSB_ID_HEX])
{
	struct gfsb_objlist l;
	size_t i, k;

	assert_int_equal(gfsb_backend_list_all(x->be, GFSB_OBJ_INDEX, &l),
	    GFSB_OK);
	name[0] = '\0';
	for (i = 0; i < l.n; i++) {
		for (k = 0; k < before->n; k++)
			if (strcmp(l.v[i].name, before->v[k].name) == 0)
				break;
		if (k == before->n)
			snprintf(name, GFSB_ID_HEX, "%s", l.v[i].name);
	}
	gfsb_objlist_fini(&l);
	assert_true(name[0] != '\0');
}

/*
 * Blobs a writer stores (sealed to the reader: the session's epk first)
 * the full key reads after loading the index file the writer wrote under
 * mkey; the writer cannot read them back, nor a blob the full key wrote.
 */
static void
blobs_both_ways(struct fx_repo *x, struct gfsb_repo *w)
{
	struct gfsb_repo_io *wio, *fio;
	struct gfsb_blob_loc loc;
	struct gfsb_buf out;
	uint8_t data[70000], id[GFSB_ID_LEN], tid[GFSB_ID_LEN];
	int added;

	fx_fill(data, sizeof(data), 5);
	assert_int_equal(gfsb_repo_io_new(w, &wio), GFSB_OK);
	assert_int_equal(gfsb_repo_blob_write(wio, GFSB_BLOB_DATA, data,
	    sizeof(data), id, 0, &added), GFSB_OK);
	assert_true(added);
	assert_int_equal(gfsb_repo_blob_write(wio, GFSB_BLOB_TREE, data, 100,
	    tid, 0, &added), GFSB_OK);
	assert_int_equal(gfsb_repo_flush(w), GFSB_OK);

	/* The full key: the writer's index file, then its blobs. */
	gfsb_repo_close(x->r);
	assert_int_equal(gfsb_repo_open(x->ctx, x->be, PASS, strlen(PASS),
	    &x->r), GFSB_OK);
	assert_int_equal(gfsb_repo_index_load(x->r), GFSB_OK);
	assert_int_equal(gfsb_repo_index_lookup(x->r, GFSB_BLOB_DATA, id,
	    &loc), GFSB_OK);
	assert_true(loc.flags & GFSB_BLOB_F_READER);
	assert_int_equal(gfsb_repo_io_new(x->r, &fio), GFSB_OK);
	gfsb_buf_init(&out);
	assert_int_equal(gfsb_repo_blob_read(fio, GFSB_BLOB_DATA, id, &out),
	    GFSB_OK);
	assert_int_equal(out.len, sizeof(data));
	assert_memory_equal(out.data, data, sizeof(data));
	assert_int_equal(gfsb_repo_blob_read(fio, GFSB_BLOB_TREE, tid, &out),
	    GFSB_OK);
	assert_int_equal(out.len, 100);

	/* The writer: neither its blob nor the full key's. */
	assert_int_equal(gfsb_repo_index_lookup(w, GFSB_BLOB_DATA, id, &loc),
	    GFSB_OK);
	gfsb_ctx_clearerr(x->ctx);
	assert_int_equal(gfsb_repo_blob_read(wio, GFSB_BLOB_DATA, id, &out),
	    GFSB_EAUTH);
	gfsb_ctx_clearerr(x->ctx);
	gfsb_buf_fini(&out);
	gfsb_repo_io_free(wio);
	gfsb_repo_io_free(fio);
}

/*
 * Version 2 envelopes: what a writer seals to the reader it cannot read
 * back and a full key can; what is sealed under mkey (index files written
 * by full keys after the upgrade, a writer's lock) both can read.
 */
static void
sealed_both_ways(struct fx_repo *x, struct gfsb_repo *w)
{
	static const char text[] = "{\"a snapshot\": \"of the writer\"}";
	struct gfsb_objlist before;
	struct gfsb_buf plain;
	char name[GFSB_ID_HEX], src[64], file[96];

	gfsb_buf_init(&plain);
	assert_int_equal(repo_obj_store(w, GFSB_OBJ_SNAPSHOT, ENV_SNAPSHOT,
	    (const uint8_t *)text, strlen(text), name), GFSB_OK);
	assert_int_equal(repo_obj_load(w, GFSB_OBJ_SNAPSHOT, ENV_SNAPSHOT,
	    name, MAX_SNAPSHOT, &plain), GFSB_EAUTH);
	gfsb_ctx_clearerr(x->ctx);
	assert_int_equal(repo_obj_load(x->r, GFSB_OBJ_SNAPSHOT, ENV_SNAPSHOT,
	    name, MAX_SNAPSHOT, &plain), GFSB_OK);
	assert_int_equal(plain.len, strlen(text));
	assert_memory_equal(plain.data, text, plain.len);
	assert_int_equal(gfsb_backend_remove(x->be, GFSB_OBJ_SNAPSHOT, name),
	    GFSB_OK);

	/* A lock the writer seals, the full key reads. */
	assert_int_equal(repo_obj_store(w, GFSB_OBJ_LOCK, ENV_LOCK,
	    (const uint8_t *)text, strlen(text), name), GFSB_OK);
	assert_int_equal(repo_obj_load(x->r, GFSB_OBJ_LOCK, ENV_LOCK, name,
	    MAX_LOCK, &plain), GFSB_OK);
	assert_int_equal(gfsb_backend_remove(x->be, GFSB_OBJ_LOCK, name),
	    GFSB_OK);

	/* An index file a full key writes now, the writer reads. */
	assert_int_equal(gfsb_backend_list_all(x->be, GFSB_OBJ_INDEX,
	    &before), GFSB_OK);
	fx_tmpdir(src, sizeof(src), "wo-more");
	snprintf(file, sizeof(file), "%s/new", src);
	fx_write(file, 50000, 9);
	fx_backup(x, src, NULL, NULL, NULL, NULL);
	index_written_after(x, &before, name);
	gfsb_objlist_fini(&before);
	assert_int_equal(repo_obj_load(w, GFSB_OBJ_INDEX, ENV_INDEX, name,
	    MAX_INDEX, &plain), GFSB_OK);
	assert_true(plain.len > 0);
	gfsb_buf_fini(&plain);
	fx_rm_rf(src);
	blobs_both_ways(x, w);
}

/* What deletes, supersedes or rewrites refuses a writer before anything
 * else, even what it could read (the index it could rebuild from the
 * pack headers under mkey): nothing is removed. */
static void
refused_to_writer(struct fx_repo *x, struct gfsb_repo *w)
{
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pr;
	struct gfsb_forget_opts fo;
	struct gfsb_forget_result fr;
	struct gfsb_forget_ids_result fir;
	struct gfsb_tag_opts to;
	struct gfsb_tag_result tr;
	struct gfsb_index_repair_opts ro;
	struct gfsb_index_repair_stats rs;
	struct gfsb_objlist before, after;
	const char *ids[1] = { "latest" };

	memset(&po, 0, sizeof(po));
	memset(&fo, 0, sizeof(fo));
	memset(&to, 0, sizeof(to));
	memset(&ro, 0, sizeof(ro));
	assert_int_equal(gfsb_backend_list_all(x->be, GFSB_OBJ_INDEX,
	    &before), GFSB_OK);
	assert_int_equal(gfsb_ops_prune(w, &po, &pr), GFSB_EAUTH);
	assert_non_null(strstr(gfsb_ctx_errmsg(x->ctx), "cannot prune"));
	gfsb_ctx_clearerr(x->ctx);
	assert_int_equal(gfsb_ops_forget(w, &fo, &fr), GFSB_EAUTH);
	gfsb_ops_forget_fini(&fr);
	gfsb_ctx_clearerr(x->ctx);
	assert_int_equal(gfsb_ops_forget_ids(w, ids, 1, 0, &fir), GFSB_EAUTH);
	gfsb_ops_forget_ids_fini(&fir);
	gfsb_ctx_clearerr(x->ctx);
	assert_int_equal(gfsb_ops_tag(w, &to, &tr), GFSB_EAUTH);
	gfsb_ctx_clearerr(x->ctx);
	assert_int_equal(gfsb_repo_index_repair(w, &ro, &rs), GFSB_EAUTH);
	assert_non_null(strstr(gfsb_ctx_errmsg(x->ctx), "repair the index"));
	gfsb_ctx_clearerr(x->ctx);
	assert_int_equal(gfsb_backend_list_all(x->be, GFSB_OBJ_INDEX, &after),
	    GFSB_OK);
	assert_int_equal(after.n, before.n);
	gfsb_objlist_fini(&before);
	gfsb_objlist_fini(&after);
}

/*
 * A write-only key: the repository becomes version 2 and full keys read
 * it as before; the writer opens it, reads nothing stored, manages no
 * keys, and nothing its key file holds opens what is stored.
 */
static void
test_write_only_key(void **state)
{
	struct fx_repo x;
	struct gfsb_repo *w = NULL;
	struct gfsb_snapshot **snaps;
	struct gfsb_key_info *keys;
	struct gfsb_buf config, snap;
	char src[64], path[96], id[GFSB_ID_HEX], wid[GFSB_ID_HEX],
	    repo_id[GFSB_ID_HEX];
	uint8_t raw[GFSB_MASTER_LEN];
	size_t n, i, wo = 0;

	(void)state;
	fx_tmpdir(src, sizeof(src), "wo-src");
	snprintf(path, sizeof(path), "%s/data", src);
	fx_write(path, 100000, 3);
	fx_repo_new(&x, PASS, 0);
	fx_backup(&x, src, NULL, NULL, NULL, id);
	snprintf(repo_id, sizeof(repo_id), "%s", gfsb_repo_id(x.r));
	assert_null(x.r->reader);
	assert_int_equal(gfsb_repo_key_add_write_only(x.r, "writer", 6, 1,
	    8 << 20, wid), GFSB_OK);
	assert_non_null(x.r->reader);

	/* A full key opens version 2 and reads what was there. */
	gfsb_repo_close(x.r);
	assert_int_equal(gfsb_repo_open(x.ctx, x.be, PASS, strlen(PASS),
	    &x.r), GFSB_OK);
	assert_false(gfsb_repo_write_only(x.r));
	assert_non_null(x.r->reader);
	assert_int_equal(gfsb_repo_snapshot_list(x.r, &snaps, &n), GFSB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(snaps[0]->id, id);
	gfsb_repo_snapshot_list_free(snaps, n);
	fx_backup(&x, src, NULL, NULL, NULL, NULL);
	assert_int_equal(gfsb_repo_key_list(x.r, &keys, &n), GFSB_OK);
	for (i = 0; i < n; i++)
		wo += keys[i].write_only && strcmp(keys[i].id, wid) == 0;
	assert_int_equal(n, 2);
	assert_int_equal(wo, 1);
	free(keys);

	/* The writer: the same repository, nothing readable. */
	assert_int_equal(gfsb_repo_open(x.ctx, x.be, "writer", 6, &w),
	    GFSB_OK);
	assert_true(gfsb_repo_write_only(w));
	assert_string_equal(gfsb_repo_id(w), repo_id);
	assert_string_equal(w->key_id, wid);
	gfsb_ctx_clearerr(x.ctx);
	assert_int_equal(gfsb_repo_snapshot_list(w, &snaps, &n), GFSB_EAUTH);
	assert_non_null(strstr(gfsb_ctx_errmsg(x.ctx), "write-only key"));
	gfsb_ctx_clearerr(x.ctx);
	/* The index files written before it, under enc, it skips. */
	assert_int_equal(gfsb_repo_index_load(w), GFSB_OK);
	assert_int_equal(gfsb_repo_key_add(w, "more", 4, 1, 8 << 20, NULL),
	    GFSB_EAUTH);
	assert_int_equal(gfsb_repo_key_add_write_only(w, "more", 4, 1,
	    8 << 20, NULL), GFSB_EAUTH);
	assert_int_equal(gfsb_repo_key_remove(w, x.r->key_id, NULL),
	    GFSB_EAUTH);
	gfsb_ctx_clearerr(x.ctx);
	refused_to_writer(&x, w);

	/* Nothing the writer holds opens the config or a snapshot; the
	 * full keys' enc does (so this test can fail). */
	gfsb_buf_init(&config);
	assert_int_equal(gfsb_backend_get(x.be, GFSB_OBJ_CONFIG, "config",
	    &config), GFSB_OK);
	first_object(&x, GFSB_OBJ_SNAPSHOT, &snap);
	assert_false(any_window_opens((const uint8_t *)w->writer,
	    sizeof(*w->writer), &config));
	assert_false(any_window_opens((const uint8_t *)w->writer,
	    sizeof(*w->writer), &snap));
	gfsb_crypto_keys_export(x.r->keys, raw);
	assert_true(any_window_opens(raw, GFSB_KEY_LEN, &snap));
	assert_true(any_window_opens(raw, GFSB_KEY_LEN, &config));
	sodium_memzero(raw, sizeof(raw));
	gfsb_buf_fini(&config);
	gfsb_buf_fini(&snap);
	sealed_both_ways(&x, w);
	gfsb_repo_close(w);

	/* Revoked: the write-only key opens nothing after. */
	assert_int_equal(gfsb_repo_key_remove(x.r, wid, NULL), GFSB_OK);
	assert_int_equal(opens(&x, "writer"), GFSB_EAUTH);
	assert_int_equal(opens(&x, PASS), GFSB_OK);
	fx_repo_free(&x);
	fx_rm_rf(src);
}

/* Does the full key's index find blob id? */
static int
full_finds(struct fx_repo *x, const uint8_t id[GFSB_ID_LEN])
{
	struct gfsb_blob_loc loc;

	gfsb_repo_close(x->r);
	assert_int_equal(gfsb_repo_open(x->ctx, x->be, PASS, strlen(PASS),
	    &x->r), GFSB_OK);
	assert_int_equal(gfsb_repo_index_load(x->r), GFSB_OK);
	return gfsb_repo_index_lookup(x->r, GFSB_BLOB_DATA, id, &loc) ==
	    GFSB_OK;
}

/* One data blob stored and indexed through r; its id into id. */
static void
store_one(struct gfsb_repo *r, unsigned seed, uint8_t id[GFSB_ID_LEN])
{
	struct gfsb_repo_io *io;
	uint8_t data[5000];
	int added;

	fx_fill(data, sizeof(data), seed);
	assert_int_equal(gfsb_repo_io_new(r, &io), GFSB_OK);
	assert_int_equal(gfsb_repo_blob_write(io, GFSB_BLOB_DATA, data,
	    sizeof(data), id, 0, &added), GFSB_OK);
	assert_int_equal(gfsb_repo_flush(r), GFSB_OK);
	gfsb_repo_io_free(io);
}

/*
 * Signed index files: what a write-only key of this repository writes is
 * found, but supersedes nothing; what a revoked one wrote, and an index
 * file under mkey with no signature, are left out.
 */
static void
test_index_signatures(void **state)
{
	struct fx_repo x;
	struct gfsb_repo *w = NULL, *w2 = NULL;
	struct gfsb_objlist l;
	struct gfsb_buf b;
	uint8_t full_id[GFSB_ID_LEN], wid[GFSB_ID_LEN], gone[GFSB_ID_LEN];
	uint8_t (*sup)[GFSB_ID_LEN];
	char w2id[GFSB_ID_HEX], name[GFSB_ID_HEX];
	size_t i;

	(void)state;
	fx_repo_new(&x, PASS, 0);
	assert_int_equal(gfsb_repo_key_add_write_only(x.r, "w1", 2, 1,
	    8 << 20, NULL), GFSB_OK);
	assert_int_equal(gfsb_repo_key_add_write_only(x.r, "w2", 2, 1,
	    8 << 20, w2id), GFSB_OK);
	store_one(x.r, 1, full_id);

	/* A writer's file supersedes nothing, though it says so. */
	assert_int_equal(gfsb_repo_open(x.ctx, x.be, "w1", 2, &w), GFSB_OK);
	store_one(w, 2, wid);
	assert_int_equal(gfsb_backend_list_all(x.be, GFSB_OBJ_INDEX, &l),
	    GFSB_OK);
	assert_non_null(sup = calloc(l.n, sizeof(*sup)));
	for (i = 0; i < l.n; i++)
		memcpy(sup[i], l.v[i].id, GFSB_ID_LEN);
	assert_int_equal(repo_index_write(w, NULL, 0,
	    (const uint8_t (*)[GFSB_ID_LEN])sup, l.n), GFSB_OK);
	free(sup);
	gfsb_objlist_fini(&l);
	assert_true(full_finds(&x, full_id));
	assert_true(full_finds(&x, wid));

	/* A revoked writer's files are left out. */
	assert_int_equal(gfsb_repo_open(x.ctx, x.be, "w2", 2, &w2), GFSB_OK);
	store_one(w2, 3, gone);
	assert_true(full_finds(&x, gone));
	assert_int_equal(gfsb_repo_key_remove(x.r, w2id, NULL), GFSB_OK);
	assert_false(full_finds(&x, gone));
	assert_true(full_finds(&x, full_id));

	/* So is an index file under mkey without a signature (one that
	 * would supersede every other), even one a full key's handle
	 * sealed. */
	assert_int_equal(gfsb_backend_list_all(x.be, GFSB_OBJ_INDEX, &l),
	    GFSB_OK);
	gfsb_buf_init(&b);
	assert_int_equal(gfsb_buf_put_u8(&b, 1), GFSB_OK);
	assert_int_equal(gfsb_buf_put_u32(&b, (uint32_t)l.n), GFSB_OK);
	for (i = 0; i < l.n; i++)
		assert_int_equal(gfsb_buf_append(&b, l.v[i].id, GFSB_ID_LEN),
		    GFSB_OK);
	assert_int_equal(gfsb_buf_put_u32(&b, 0), GFSB_OK);
	gfsb_objlist_fini(&l);
	assert_int_equal(repo_obj_store(x.r, GFSB_OBJ_INDEX, ENV_INDEX, b.data,
	    b.len, name), GFSB_OK);
	gfsb_buf_fini(&b);
	assert_true(full_finds(&x, full_id));
	gfsb_repo_close(w);
	gfsb_repo_close(w2);
	fx_repo_free(&x);
}

/* Packs the full key's index holds marked for deletion. */
static size_t
doomed_packs(struct gfsb_repo *r)
{
	size_t s, n = 0;

	for (s = 0; s < r->idx.npacks; s++)
		n += r->idx.packs[s].doomed;
	return n;
}

/* Every index file in a version 2 envelope? */
static int
all_index_v2(struct fx_repo *x)
{
	struct gfsb_objlist l;
	struct gfsb_buf b;
	size_t i;
	int v2 = 1;

	assert_int_equal(gfsb_backend_list_all(x->be, GFSB_OBJ_INDEX, &l),
	    GFSB_OK);
	gfsb_buf_init(&b);
	for (i = 0; i < l.n; i++) {
		b.len = 0;
		assert_int_equal(gfsb_backend_get(x->be, GFSB_OBJ_INDEX,
		    l.v[i].name, &b), GFSB_OK);
		v2 = v2 && b.len > 4 && b.data[4] == 2;
	}
	gfsb_buf_fini(&b);
	v2 = v2 && l.n > 0;
	gfsb_objlist_fini(&l);
	return v2;
}

/*
 * The first write-only key on a repository with data: the index the full
 * key sealed under enc is rewritten under mkey (entries and marks for
 * deletion as they were), so the writer's first backup of the same files
 * stores nothing again.
 */
static void
test_index_resealed(void **state)
{
	struct gfsb_key_opts ko;
	struct gfsb_prune_opts po;
	struct gfsb_prune_result pr;
	struct gfsb_backup_result br;
	struct gfsb_backup_opts bo;
	struct fx_repo x;
	struct gfsb_repo *w = NULL;
	const char *paths[1];
	char src[64], path[96], id[GFSB_ID_HEX];
	size_t blobs, doomed;

	(void)state;
	fx_tmpdir(src, sizeof(src), "reseal-src");
	snprintf(path, sizeof(path), "%s/old", src);
	fx_write(path, 300000, 7);
	fx_repo_new(&x, PASS, 0);
	fx_backup(&x, src, NULL, NULL, NULL, id);
	/* A pack marked for deletion, its grace not passed. */
	unlink(path);
	snprintf(path, sizeof(path), "%s/data", src);
	fx_write(path, 400000, 8);	/* 400 KB the writer finds */
	fx_backup(&x, src, NULL, NULL, NULL, NULL);
	assert_int_equal(gfsb_backend_remove(x.be, GFSB_OBJ_SNAPSHOT, id),
	    GFSB_OK);
	memset(&po, 0, sizeof(po));
	po.max_unused = 0.05;
	po.grace = 86400;
	assert_int_equal(gfsb_ops_prune(x.r, &po, &pr), GFSB_OK);
	assert_int_equal(gfsb_repo_index_load(x.r), GFSB_OK);
	blobs = gfsb_repo_index_count(x.r);
	assert_true((doomed = doomed_packs(x.r)) > 0);
	assert_false(all_index_v2(&x));

	memset(&ko, 0, sizeof(ko));
	ko.verb = GFSB_KEY_ADD;
	ko.write_only = 1;
	ko.pass = "writer";
	ko.passlen = 6;
	assert_int_equal(gfsb_ops_key(x.r, &ko, NULL, NULL), GFSB_OK);
	assert_true(all_index_v2(&x));

	/* The full key: the same entries, the same marks. */
	gfsb_repo_close(x.r);
	assert_int_equal(gfsb_repo_open(x.ctx, x.be, PASS, strlen(PASS),
	    &x.r), GFSB_OK);
	assert_int_equal(gfsb_repo_index_load(x.r), GFSB_OK);
	assert_int_equal(gfsb_repo_index_count(x.r), blobs);
	assert_int_equal(doomed_packs(x.r), doomed);

	/* The writer finds them: its backup stores no data again. */
	assert_int_equal(gfsb_repo_open(x.ctx, x.be, "writer", 6, &w),
	    GFSB_OK);
	memset(&bo, 0, sizeof(bo));
	paths[0] = src;
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	assert_int_equal(gfsb_ops_backup(w, &bo, &br), GFSB_OK);
	/* (A tree or two may be new: the trees of the path's parents
	 * hold their times, and /tmp's changes.) 400 KB were there. */
	assert_true(br.summary.data_added < 4096);
	gfsb_repo_close(w);
	fx_repo_free(&x);
	fx_rm_rf(src);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_verbs),
		cmocka_unit_test(test_add_list_remove),
		cmocka_unit_test(test_passwd),
		cmocka_unit_test(test_write_only_key),
		cmocka_unit_test(test_index_signatures),
		cmocka_unit_test(test_index_resealed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
