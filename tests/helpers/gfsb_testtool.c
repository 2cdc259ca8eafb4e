/*
 * gfsb_testtool: what the end-to-end tests need and the CLI must never
 * offer.
 *
 *   gfsb_testtool hold-lock REPO exclusive|shared|prune
 *       take a lock and hold it until SIGTERM (prints "locked")
 *   gfsb_testtool hostile-snapshot REPO NAME
 *       write a snapshot whose tree holds a file called NAME, bypassing
 *       the encoder's checks (an attacker who has the key, or a bug),
 *       and print its id
 *   gfsb_testtool synth-index REPO N
 *       write index files naming N more data blobs of 1 MiB (random ids)
 *       in packs of 1000, as a repository of N MiB would hold, and print
 *       "NAME SIZE" of each pack they name (the packs are not written:
 *       a benchmark makes them sparse files of that size, which is all a
 *       structure check looks at): tests/bench/index_bench.sh
 *   gfsb_testtool reseal-config REPO KEY=NUMBER
 *       rewrite the config with one number changed, sealed with the
 *       repository's keys (an attacker who holds the server replacing the
 *       config with one that opens)
 *   gfsb_testtool be [--as-of SECONDS] URL VERB [ARGS]
 *       one backend call on the storage at URL, no repository needed
 *       (Object Lock and the as-of view, before the CLI offers them):
 *         put TYPE FILE [MODE UNTIL]  put_locked; prints the name (the
 *                                     SHA-256 of FILE; "config" for config)
 *         get TYPE NAME               the bytes, to stdout
 *         stat TYPE NAME              the size
 *         list TYPE                   "NAME SIZE MTIME" lines (list_all;
 *                                     list for config)
 *         rm TYPE NAME                remove
 *         ret-get TYPE NAME           "MODE UNTIL"
 *         ret-set TYPE NAME MODE UNTIL
 *         lock-enabled                0 or 1
 *         versioning                  0, 1 (Enabled) or 2 (Suspended)
 *       TYPE is config, keys, data, index, snapshots or locks; MODE none,
 *       governance or compliance; UNTIL seconds since the epoch.  A failed
 *       call prints "gfsb_testtool: VERB: GFSB_E...: detail" and exits 1.
 *
 * The passphrase comes from GFSBACKUP_PASSWORD_FILE.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/util.h>

#include "repo/repo_internal.h"

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int
fail(struct gfsb_ctx *ctx, const char *what, gfsb_err e)
{
	fprintf(stderr, "gfsb_testtool: %s: %s (%s)\n", what,
	    gfsb_strerror(e), ctx ? gfsb_ctx_errmsg(ctx) : "");
	return 1;
}

static int
open_repo(const char *url, struct gfsb_ctx **ctx, struct gfsb_backend **be,
    struct gfsb_repo **r)
{
	const char *pf = getenv("GFSBACKUP_PASSWORD_FILE");
	char pass[256];
	size_t n;
	FILE *f;
	gfsb_err e;

	if (pf == NULL || (f = fopen(pf, "r")) == NULL)
		return fail(NULL, "need GFSBACKUP_PASSWORD_FILE", GFSB_EINVAL);
	n = fread(pass, 1, sizeof(pass) - 1, f);
	fclose(f);
	pass[n] = '\0';
	if (n > 0 && pass[n - 1] == '\n')
		pass[--n] = '\0';
	if ((e = gfsb_ctx_new(ctx)) != GFSB_OK ||
	    (e = gfsb_backend_open(*ctx, url, be)) != GFSB_OK ||
	    (e = gfsb_repo_open(*ctx, *be, pass, n, r)) != GFSB_OK)
		return fail(*ctx, "open", e);
	return 0;
}

static int
hold_lock(struct gfsb_repo *r, struct gfsb_ctx *ctx, int kind)
{
	struct gfsb_lock *l;
	gfsb_err e;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	if ((e = gfsb_repo_lock(r, kind, &l)) != GFSB_OK)
		return fail(ctx, "lock", e);
	printf("locked\n");
	fflush(stdout);
	while (!stop)
		pause();
	gfsb_repo_unlock(l);
	return 0;
}

/* Encode a tree of one node named like `name` (same length), then patch
 * the real name into the bytes and store the result as a tree blob. */
static gfsb_err
hostile_tree(struct gfsb_repo_io *io, struct gfsb_node *n, const char *name,
    uint8_t id[GFSB_ID_LEN])
{
	struct gfsb_tree t;
	struct gfsb_buf b;
	size_t len = strlen(name);
	uint8_t *p;
	int added;
	gfsb_err e;

	gfsb_repo_tree_init(&t);
	gfsb_buf_init(&b);
	n->name = malloc(len + 1);
	memset(n->name, 'q', len);
	n->name[len] = '\0';
	if ((e = gfsb_repo_tree_add(&t, n)) != GFSB_OK ||
	    (e = gfsb_repo_tree_encode(&t, &b)) != GFSB_OK)
		goto out;
	p = memmem(b.data, b.len, t.nodes[0].name, len);
	memcpy(p, name, len);
	e = gfsb_repo_blob_write(io, GFSB_BLOB_TREE, b.data, b.len, id, 0,
	    &added);
out:
	gfsb_repo_tree_fini(&t);
	gfsb_buf_fini(&b);
	return e;
}

static int
hostile_snapshot(struct gfsb_repo *r, struct gfsb_ctx *ctx, const char *name)
{
	static const char content[] = "written outside the target\n";
	struct gfsb_snapshot s;
	struct gfsb_repo_io *io;
	struct gfsb_node n, dir;
	uint8_t id[GFSB_ID_LEN], sub[GFSB_ID_LEN];
	char *paths[1] = { "/x" };
	int added;
	gfsb_err e;

	if ((e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(r, &io)) != GFSB_OK)
		return fail(ctx, "index", e);
	memset(&n, 0, sizeof(n));
	n.kind = GFSB_NODE_FILE;
	n.mode = S_IFREG | 0644;
	n.size = sizeof(content) - 1;
	n.nextents = 1;
	n.extents = calloc(1, sizeof(*n.extents));
	n.extents[0].len = n.size;
	if ((e = gfsb_repo_blob_write(io, GFSB_BLOB_DATA,
	    (const uint8_t *)content, n.size, n.extents[0].id, 0, &added)) !=
	    GFSB_OK || (e = hostile_tree(io, &n, name, sub)) != GFSB_OK)
		return fail(ctx, "write", e);
	/* Root: a directory "x" holding the hostile entry. */
	memset(&dir, 0, sizeof(dir));
	dir.kind = GFSB_NODE_DIR;
	dir.mode = S_IFDIR | 0755;
	memcpy(dir.subtree, sub, GFSB_ID_LEN);
	if ((e = hostile_tree(io, &dir, "x", id)) != GFSB_OK ||
	    (e = gfsb_repo_flush(r)) != GFSB_OK)
		return fail(ctx, "write", e);
	memset(&s, 0, sizeof(s));
	gfsb_time_now(&s.time);
	s.hostname = "attacker";
	s.username = "mallory";
	s.paths = paths;
	s.npaths = 1;
	memcpy(s.tree, id, GFSB_ID_LEN);
	if ((e = gfsb_repo_snapshot_save(r, &s)) != GFSB_OK)
		return fail(ctx, "snapshot", e);
	printf("%s\n", s.id);
	gfsb_repo_io_free(io);
	return 0;
}

/* synth-index: n blobs of 1 MiB in packs of 1000, indexed, not stored. */
static int
synth_index(struct gfsb_repo *r, struct gfsb_ctx *ctx, const char *arg)
{
	enum { PER_PACK = 1000, RAW = 1 << 20 };
	struct donepack *dp = NULL;
	struct hdrent *ents = NULL;
	char *end, hex[GFSB_ID_HEX];
	unsigned long long n = strtoull(arg, &end, 10), done = 0;
	size_t np = ENTRIES_PER_INDEX / PER_PACK, k, i, j;
	uint64_t size;
	gfsb_err e = GFSB_OK;

	if (*arg == '\0' || *end != '\0' || n == 0)
		return 2;
	if ((dp = calloc(np, sizeof(*dp))) == NULL ||
	    (ents = calloc((size_t)np * PER_PACK, sizeof(*ents))) == NULL)
		return fail(ctx, "synth-index", GFSB_ENOMEM);
	while (done < n && e == GFSB_OK) {
		for (k = 0; k < np && done < n; k++) {
			gfsb_crypto_random(dp[k].id, GFSB_ID_LEN);
			dp[k].ents = ents + k * PER_PACK;
			dp[k].n = 0;
			size = ENV_OVERHEAD + 1 + 4 + 4;
			for (j = 0; j < PER_PACK && done < n; j++, done++) {
				struct hdrent *h = &dp[k].ents[j];

				gfsb_crypto_random(h->id, GFSB_ID_LEN);
				h->type = GFSB_BLOB_DATA;
				h->flags = 0;
				h->offset = (uint32_t)(j * (RAW +
				    GFSB_SEAL_OVERHEAD));
				h->length = RAW + GFSB_SEAL_OVERHEAD;
				h->raw_length = RAW;
				size += h->length + PACKHDR_ENTRY_LEN;
				dp[k].n++;
			}
			gfsb_hex_encode(dp[k].id, GFSB_ID_LEN, hex);
			printf("%s %llu\n", hex, (unsigned long long)size);
		}
		e = repo_index_write(r, dp, k, NULL, 0);
	}
	for (i = 0; i < np; i++)
		dp[i].ents = NULL;
	free(dp);
	free(ents);
	return e == GFSB_OK ? 0 : fail(ctx, "synth-index", e);
}

static int
reseal_config(struct gfsb_repo *r, struct gfsb_ctx *ctx, const char *kv)
{
	struct gfsb_buf plain;
	char key[64], name[GFSB_ID_HEX], *text = NULL;
	const char *eq = strchr(kv, '=');
	json_t *o = NULL;
	gfsb_err e;
	int rc = 1;

	if (eq == NULL || (size_t)(eq - kv) >= sizeof(key))
		return 2;
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	gfsb_buf_init(&plain);
	if ((e = repo_obj_load(r, GFSB_OBJ_CONFIG, ENV_CONFIG, "config",
	    MAX_CONFIG, &plain)) != GFSB_OK) {
		rc = fail(ctx, "read config", e);
		goto out;
	}
	if ((o = json_loadb((const char *)plain.data, plain.len, 0, NULL)) ==
	    NULL || json_object_set_new(o, key, json_integer(atoll(eq + 1))) !=
	    0 || (text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		goto out;
	if ((e = repo_obj_store(r, GFSB_OBJ_CONFIG, ENV_CONFIG,
	    (const uint8_t *)text, strlen(text), name)) != GFSB_OK) {
		rc = fail(ctx, "write config", e);
		goto out;
	}
	rc = 0;
out:
	free(text);
	json_decref(o);
	gfsb_buf_wipe(&plain);
	return rc;
}

/* ---- be: one backend call ---- */

static const char *const errnames[] = {
	"GFSB_OK", "GFSB_ENOMEM", "GFSB_EIO", "GFSB_ENOTFOUND",
	"GFSB_ECORRUPT", "GFSB_EAUTH", "GFSB_ELOCKED", "GFSB_ENET",
	"GFSB_EINVAL", "GFSB_ENOREPO", "GFSB_EEXIST", "GFSB_ECANCELED",
	"GFSB_EUNSUPPORTED", "GFSB_EDENIED",
};

static int
be_fail(struct gfsb_ctx *ctx, const char *verb, gfsb_err e)
{
	fprintf(stderr, "gfsb_testtool: %s: %s: %s\n", verb,
	    (size_t)e < sizeof(errnames) / sizeof(errnames[0]) ?
	    errnames[e] : "?", gfsb_ctx_errmsg(ctx)[0] ?
	    gfsb_ctx_errmsg(ctx) : gfsb_strerror(e));
	return 1;
}

static int
parse_type(const char *s, enum gfsb_obj *t)
{
	int i;

	for (i = 0; i < GFSB_OBJ_NTYPES; i++)
		if (strcmp(s, gfsb_backend_type_name((enum gfsb_obj)i)) == 0) {
			*t = (enum gfsb_obj)i;
			return 0;
		}
	fprintf(stderr, "gfsb_testtool: unknown type %s\n", s);
	return -1;
}

static int
parse_ret(const char *mode, const char *until, struct gfsb_retention *r)
{
	char *end;

	memset(r, 0, sizeof(*r));
	if (strcmp(mode, "governance") == 0)
		r->mode = GFSB_LOCK_GOVERNANCE;
	else if (strcmp(mode, "compliance") == 0)
		r->mode = GFSB_LOCK_COMPLIANCE;
	else if (strcmp(mode, "none") != 0)
		return -1;
	r->until = strtoll(until, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static int
read_file(const char *path, struct gfsb_buf *b)
{
	char chunk[65536];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (gfsb_buf_append(b, chunk, n) != GFSB_OK) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

static gfsb_err
print_config(void *cookie, const char *name, uint64_t size)
{
	(void)cookie;
	printf("%s %llu\n", name, (unsigned long long)size);
	return GFSB_OK;
}

static int
be_verb(struct gfsb_ctx *ctx, struct gfsb_backend *be, int argc, char **argv)
{
	const char *verb = argv[0];
	static const char *const modes[] = { "none", "governance",
		"compliance" };
	struct gfsb_retention ret;
	struct gfsb_objlist l;
	struct gfsb_buf b;
	enum gfsb_obj t = GFSB_OBJ_CONFIG;
	uint8_t id[GFSB_ID_LEN];
	char name[GFSB_ID_HEX];
	uint64_t size;
	size_t i;
	int v, rc = 0;
	gfsb_err e = GFSB_OK;

	gfsb_buf_init(&b);
	if (argc >= 2 && parse_type(argv[1], &t) != 0)
		return 2;
	if (strcmp(verb, "put") == 0 && (argc == 3 || argc == 5)) {
		if (read_file(argv[2], &b) != 0)
			return 1;
		if (argc == 5 && parse_ret(argv[3], argv[4], &ret) != 0)
			return 2;
		if (t == GFSB_OBJ_CONFIG) {
			strcpy(name, "config");
		} else {
			gfsb_crypto_sha256(b.data, b.len, id);
			gfsb_hex_encode(id, sizeof(id), name);
		}
		e = gfsb_backend_put_locked(be, t, name, b.data, b.len,
		    argc == 5 ? &ret : NULL);
		if (e == GFSB_OK)
			printf("%s\n", name);
	} else if (strcmp(verb, "get") == 0 && argc == 3) {
		if ((e = gfsb_backend_get(be, t, argv[2], &b)) == GFSB_OK &&
		    fwrite(b.data, 1, b.len, stdout) != b.len)
			rc = 1;
	} else if (strcmp(verb, "stat") == 0 && argc == 3) {
		if ((e = gfsb_backend_stat(be, t, argv[2], &size)) == GFSB_OK)
			printf("%llu\n", (unsigned long long)size);
	} else if (strcmp(verb, "list") == 0 && argc == 2) {
		if (t == GFSB_OBJ_CONFIG) {
			e = gfsb_backend_list(be, t, print_config, NULL);
		} else if ((e = gfsb_backend_list_all(be, t, &l)) == GFSB_OK) {
			for (i = 0; i < l.n; i++)
				printf("%s %llu %lld\n", l.v[i].name,
				    (unsigned long long)l.v[i].size,
				    (long long)l.v[i].mtime);
			gfsb_objlist_fini(&l);
		}
	} else if (strcmp(verb, "rm") == 0 && argc == 3) {
		e = gfsb_backend_remove(be, t, argv[2]);
	} else if (strcmp(verb, "ret-get") == 0 && argc == 3) {
		if ((e = gfsb_backend_retention_get(be, t, argv[2], &ret)) ==
		    GFSB_OK)
			printf("%s %lld\n", modes[ret.mode],
			    (long long)ret.until);
	} else if (strcmp(verb, "ret-set") == 0 && argc == 5) {
		if (parse_ret(argv[3], argv[4], &ret) != 0)
			return 2;
		e = gfsb_backend_retention_set(be, t, argv[2], &ret);
	} else if (strcmp(verb, "lock-enabled") == 0 && argc == 1) {
		if ((e = gfsb_backend_lock_enabled(be, &v)) == GFSB_OK)
			printf("%d\n", v);
	} else if (strcmp(verb, "versioning") == 0 && argc == 1) {
		if ((e = gfsb_backend_versioning(be, &v)) == GFSB_OK)
			printf("%d\n", v);
	} else {
		fprintf(stderr, "gfsb_testtool: be: unknown verb or wrong "
		    "arguments: %s\n", verb);
		rc = 2;
	}
	gfsb_buf_fini(&b);
	if (e != GFSB_OK)
		return be_fail(ctx, verb, e);
	return rc;
}

static int
be_main(int argc, char **argv)
{
	struct gfsb_backend_opts o;
	struct gfsb_ctx *ctx = NULL;
	struct gfsb_backend *be = NULL;
	char *end;
	int rc;
	gfsb_err e;

	memset(&o, 0, sizeof(o));
	if (argc >= 2 && strcmp(argv[0], "--as-of") == 0) {
		o.as_of = strtoll(argv[1], &end, 10);
		if (*end != '\0')
			return 2;
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		return 2;
	if ((e = gfsb_ctx_new(&ctx)) != GFSB_OK)
		return 1;
	if ((e = gfsb_backend_open_opts(ctx, argv[0], &o, &be)) != GFSB_OK) {
		rc = be_fail(ctx, "open", e);
		gfsb_ctx_free(ctx);
		return rc;
	}
	rc = be_verb(ctx, be, argc - 1, argv + 1);
	gfsb_backend_close(be);
	gfsb_ctx_free(ctx);
	return rc;
}

int
main(int argc, char **argv)
{
	struct gfsb_ctx *ctx = NULL;
	struct gfsb_backend *be = NULL;
	struct gfsb_repo *r = NULL;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "be") == 0)
		return be_main(argc - 2, argv + 2);
	if (argc != 4) {
		fprintf(stderr, "usage: gfsb_testtool hold-lock REPO "
		    "exclusive|shared|prune | hostile-snapshot REPO NAME | "
		    "reseal-config REPO KEY=NUMBER | synth-index REPO N | be "
		    "[--as-of T] URL VERB ...\n");
		return 2;
	}
	if ((rc = open_repo(argv[2], &ctx, &be, &r)) != 0)
		return rc;
	if (strcmp(argv[1], "hold-lock") == 0)
		rc = hold_lock(r, ctx, strcmp(argv[3], "exclusive") == 0 ?
		    GFSB_REPO_LOCK_EXCLUSIVE : strcmp(argv[3], "prune") == 0 ?
		    GFSB_REPO_LOCK_PRUNE : GFSB_REPO_LOCK_SHARED);
	else if (strcmp(argv[1], "hostile-snapshot") == 0)
		rc = hostile_snapshot(r, ctx, argv[3]);
	else if (strcmp(argv[1], "reseal-config") == 0)
		rc = reseal_config(r, ctx, argv[3]);
	else if (strcmp(argv[1], "synth-index") == 0)
		rc = synth_index(r, ctx, argv[3]);
	else
		rc = 2;
	gfsb_repo_close(r);
	gfsb_backend_close(be);
	gfsb_ctx_free(ctx);
	return rc;
}
