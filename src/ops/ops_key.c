/*
 * gfsbackup key: the repository's key files listed, a passphrase
 * changed, a key added or removed.  Every change is made under the
 * exclusive lock, which keeps prune and other key changes out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_line.h"

gfsb_err
gfsb_ops_key_verb_parse(const char *s, enum gfsb_key_verb *out)
{
	static const char *const names[] = { "list", "passwd", "add",
	    "remove" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum gfsb_key_verb)i;
			return GFSB_OK;
		}
	return GFSB_EINVAL;
}

gfsb_err
gfsb_ops_key_args(struct gfsb_ctx *ctx, const char *const *args, size_t n,
    struct gfsb_key_opts *o)
{
	if (n == 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "give passwd, add, "
		    "list or remove");
	if (gfsb_ops_key_verb_parse(args[0], &o->verb) != GFSB_OK)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "unknown key command "
		    "%s", args[0]);
	if (o->verb == GFSB_KEY_REMOVE && n != 2)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "key remove takes one "
		    "key id");
	if (o->verb != GFSB_KEY_REMOVE && n > 1)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "unexpected argument "
		    "%s", args[1]);
	if (o->write_only && o->verb != GFSB_KEY_ADD)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "--write-only goes "
		    "with key add");
	o->id = n > 1 ? args[1] : NULL;
	return GFSB_OK;
}

/* The key table, the current key starred. */
static gfsb_err
list(struct gfsb_repo *r, struct ops_lines *l)
{
	struct gfsb_key_info *keys;
	char when[32];
	size_t n, i;
	gfsb_err e;

	if ((e = gfsb_repo_key_list(r, &keys, &n)) != GFSB_OK)
		return e;
	ops_line_put(l, "  %-8s  %-19s  %-16s  %s", "ID", "Created", "Host",
	    "User");
	for (i = 0; i < n; i++) {
		gfsb_time_format_local(&keys[i].created, when, sizeof(when));
		ops_line_put(l, "%c %-8.8s  %-19s  %-16s  %s%s",
		    keys[i].current ? '*' : ' ', keys[i].id,
		    keys[i].damaged ? "?" : when, keys[i].hostname,
		    keys[i].username, keys[i].damaged ? "  (damaged)" :
		    keys[i].write_only ? "  (write-only)" : "");
	}
	free(keys);
	return GFSB_OK;
}

/*
 * After a write-only key is added: the index a full key sealed under enc
 * rewritten for write-only keys too.  The key is there either way; a
 * failure is said, with what does it later.
 */
static void
reseal(struct gfsb_repo *r, struct ops_lines *l)
{
	uint64_t written, removed;

	if (gfsb_repo_index_reseal(r, &written, &removed) != GFSB_OK) {
		ops_line_add(l, "warning: cannot rewrite the index for "
		    "write-only keys yet (%s): `gfsbackup prune` does it; "
		    "until then their first backup stores again what is "
		    "stored", gfsb_ctx_errmsg(gfsb_repo_ctx(r)));
		ops_line_end(l, GFSB_OPS_LINE_WARNING);
		gfsb_ctx_clearerr(gfsb_repo_ctx(r));
		return;
	}
	if (written > 0)
		ops_line_put(l, "rewrote the index for write-only keys: %llu "
		    "files written, %llu removed", (unsigned long long)written,
		    (unsigned long long)removed);
}

/* A change, under the exclusive lock. */
static gfsb_err
change(struct gfsb_repo *r, const struct gfsb_key_opts *o,
    struct ops_lines *l)
{
	struct gfsb_lock *lock;
	char id[GFSB_ID_HEX];
	gfsb_err e;

	if ((e = gfsb_repo_lock(r, GFSB_REPO_LOCK_EXCLUSIVE, &lock)) !=
	    GFSB_OK)
		return e;
	switch (o->verb) {
	case GFSB_KEY_PASSWD:
		if ((e = gfsb_repo_key_passwd(r, o->pass, o->passlen)) ==
		    GFSB_OK)
			ops_line_put(l, "passphrase changed");
		break;
	case GFSB_KEY_ADD:
		e = o->write_only ? gfsb_repo_key_add_write_only(r, o->pass,
		    o->passlen, 0, 0, id) : gfsb_repo_key_add(r, o->pass,
		    o->passlen, 0, 0, id);
		if (e == GFSB_OK)
			ops_line_put(l, "%skey %.8s added", o->write_only ?
			    "write-only " : "", id);
		if (e == GFSB_OK && o->write_only)
			reseal(r, l);
		break;
	default:
		if ((e = gfsb_repo_key_remove(r, o->id, id)) == GFSB_OK)
			ops_line_put(l, "key %.8s removed", id);
		break;
	}
	gfsb_repo_unlock(lock);
	return e;
}

gfsb_err
gfsb_ops_key(struct gfsb_repo *r, const struct gfsb_key_opts *o,
    gfsb_ops_line_fn *fn, void *cookie)
{
	struct ops_lines l;
	gfsb_err e, e2;

	ops_line_init(&l, fn, cookie);
	e = o->verb == GFSB_KEY_LIST ? list(r, &l) : change(r, o, &l);
	e2 = ops_line_fini(&l);
	return e != GFSB_OK ? e : e2;
}
