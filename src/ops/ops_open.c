/*
 * Opening a repository, as every command and the daily job do it: the
 * backend for the URL (as of a moment of the past if asked), a look that
 * a repository is there before a passphrase is asked for, the passphrase
 * from its sources into secure memory, the key it opens, then the lock
 * wait and the metadata cache.  Also which repository a command names,
 * and the exit status of each way opening one fails.
 */
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/pass.h>

/* The cache as o asks: none, a directory, or (remote only) the default
 * the repository already has. */
static gfsb_err
set_cache(const struct gfsb_open_opts *o, struct gfsb_backend *be,
    struct gfsb_repo *r)
{
	if (o->no_cache)
		return gfsb_repo_set_cache(r, NULL);
	if (o->cache_dir != NULL && gfsb_backend_is_remote(be))
		return gfsb_repo_set_cache(r, o->cache_dir);
	return GFSB_OK;
}

gfsb_err
gfsb_ops_open(struct gfsb_ctx *ctx, const struct gfsb_open_opts *o,
    struct gfsb_backend **bep, struct gfsb_repo **rp,
    enum gfsb_open_step *step)
{
	struct gfsb_backend_opts bo;
	struct gfsb_backend *be = NULL;
	struct gfsb_repo *r = NULL;
	char *pass = NULL;
	size_t len = 0;
	gfsb_err e;

	*bep = NULL;
	*rp = NULL;
	if (o->remote != NULL)
		bo = *o->remote;
	else
		memset(&bo, 0, sizeof(bo));
	bo.as_of = o->as_of;
	*step = GFSB_OPEN_BACKEND;
	if ((e = gfsb_backend_open_opts(ctx, o->url, &bo, &be)) != GFSB_OK)
		return e;
	*bep = be;
	/* Say the repository is missing before asking for a passphrase. */
	*step = GFSB_OPEN_PROBE;
	if ((e = gfsb_repo_probe(ctx, be)) != GFSB_OK)
		return e;
	/* Only this read's detail: earlier ones do not matter now. */
	*step = GFSB_OPEN_PASS;
	gfsb_ctx_clearerr(ctx);
	if ((e = gfsb_pass_read(ctx, o->pass, &pass, &len)) != GFSB_OK)
		return e;
	*step = GFSB_OPEN_KEY;
	e = gfsb_repo_open(ctx, be, pass, len, &r);
	gfsb_crypto_secure_free(pass);
	if (e != GFSB_OK)
		return e;
	gfsb_repo_set_lock_wait(r, o->retry_lock);
	*step = GFSB_OPEN_CACHE;
	if ((e = set_cache(o, be, r)) != GFSB_OK) {
		gfsb_repo_close(r);
		return e;
	}
	*rp = r;
	return GFSB_OK;
}

gfsb_err
gfsb_ops_repo_url(struct gfsb_ctx *ctx, const char *given, const char **url)
{
	const char *u = given;

	if (u == NULL)
		u = getenv("GFSBACKUP_REPOSITORY");
	if (u == NULL || *u == '\0') {
		gfsb_ctx_clearerr(ctx);
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "no repository: give "
		    "-r REPO or set GFSBACKUP_REPOSITORY");
	}
	*url = u;
	return GFSB_OK;
}

int
gfsb_ops_open_exit(struct gfsb_ctx *ctx, gfsb_err e,
    enum gfsb_open_step step)
{
	if (step == GFSB_OPEN_BACKEND && e == GFSB_EINVAL)
		return GFSB_EXIT_USAGE;
	if (step != GFSB_OPEN_PASS)
		return gfsb_ops_exit_status(e);
	if (e == GFSB_ENOTFOUND) {
		/* What to do about it, rather than which source failed. */
		gfsb_ctx_clearerr(ctx);
		gfsb_ctx_seterr(ctx, e, "no passphrase: use --password-file, "
		    "GFSBACKUP_PASSWORD_FILE, --password-command or a "
		    "terminal");
		return GFSB_EXIT_USAGE;
	}
	/* A file that cannot be used: nothing was done. */
	return e == GFSB_EINVAL ? GFSB_EXIT_USAGE : GFSB_EXIT_FATAL;
}
