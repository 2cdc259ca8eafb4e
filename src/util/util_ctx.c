/*
 * The library context: error slot, log callback and cancellation flag.
 *
 * There is no global state in the library; every operation takes a context.
 * The first error recorded is kept (it is the root cause), unless it was
 * damage and a failure to look follows; callers clear it between
 * independent operations.  The cancel flag is a lock-free atomic so
 * that a signal handler may set it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <gfsbackup/util.h>

#define ERRMSG_MAX 1024

struct gfsb_ctx {
	pthread_mutex_t lock;
	gfsb_log_fn *log;
	void *log_cookie;
	int have_err;
	gfsb_err err;		/* of the detail recorded */
	char errmsg[ERRMSG_MAX];
	atomic_int canceled;
};

static const char *const errnames[] = {
	[GFSB_OK] = "success",
	[GFSB_ENOMEM] = "out of memory",
	[GFSB_EIO] = "input/output error",
	[GFSB_ENOTFOUND] = "not found",
	[GFSB_ECORRUPT] = "data is corrupt",
	[GFSB_EAUTH] = "wrong passphrase",
	[GFSB_ELOCKED] = "repository is locked",
	[GFSB_ENET] = "network error",
	[GFSB_EINVAL] = "invalid argument",
	[GFSB_ENOREPO] = "repository does not exist",
	[GFSB_EEXIST] = "already exists",
	[GFSB_ECANCELED] = "interrupted",
	[GFSB_EUNSUPPORTED] = "unsupported format or feature",
	[GFSB_EDENIED] = "access denied by the storage",
};

const char *
gfsb_strerror(gfsb_err err)
{
	if ((size_t)err >= sizeof(errnames) / sizeof(errnames[0]) ||
	    errnames[err] == NULL)
		return "unknown error";
	return errnames[err];
}

int
gfsb_err_is_damage(gfsb_err err)
{
	return err == GFSB_ECORRUPT || err == GFSB_ENOTFOUND ||
	    err == GFSB_EUNSUPPORTED;
}

gfsb_err
gfsb_ctx_new(struct gfsb_ctx **out)
{
	struct gfsb_ctx *ctx;

	if (sodium_init() < 0)
		return GFSB_EIO;
	gfsb_json_wipe_init();
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return GFSB_ENOMEM;
	if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
		free(ctx);
		return GFSB_ENOMEM;
	}
	atomic_init(&ctx->canceled, 0);
	*out = ctx;
	return GFSB_OK;
}

void
gfsb_ctx_free(struct gfsb_ctx *ctx)
{
	if (ctx == NULL)
		return;
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

void
gfsb_ctx_set_log(struct gfsb_ctx *ctx, gfsb_log_fn *fn, void *cookie)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->log = fn;
	ctx->log_cookie = cookie;
	pthread_mutex_unlock(&ctx->lock);
}

void
gfsb_ctx_log(struct gfsb_ctx *ctx, enum gfsb_log_level level,
    const char *fmt, ...)
{
	char line[ERRMSG_MAX];
	va_list ap;

	if (ctx == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Hold the lock across the call: the callback sees one line at once. */
	pthread_mutex_lock(&ctx->lock);
	if (ctx->log != NULL)
		ctx->log(ctx->log_cookie, level, line);
	pthread_mutex_unlock(&ctx->lock);
}

const char *
gfsb_ctx_log_prefix(enum gfsb_log_level level, int verbose)
{
	if (level == GFSB_LOG_DEBUG && verbose < 2)
		return NULL;
	if (level == GFSB_LOG_INFO && verbose < 1)
		return NULL;
	return level == GFSB_LOG_ERROR ? "error: " :
	    level == GFSB_LOG_WARN ? "warning: " : "";
}

gfsb_err
gfsb_ctx_seterr(struct gfsb_ctx *ctx, gfsb_err err, const char *fmt, ...)
{
	va_list ap;

	if (ctx == NULL)
		return err;
	pthread_mutex_lock(&ctx->lock);
	/* Damage a check recorded and went on from must not hide the
	 * storage failure that stopped the operation (a verify reader's
	 * 500 after another reader's damaged blob). */
	if (!ctx->have_err || (gfsb_err_is_damage(ctx->err) &&
	    !gfsb_err_is_damage(err))) {
		va_start(ap, fmt);
		vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
		va_end(ap);
		ctx->have_err = 1;
		ctx->err = err;
	}
	pthread_mutex_unlock(&ctx->lock);
	return err;
}

const char *
gfsb_ctx_errmsg(struct gfsb_ctx *ctx)
{
	return ctx->have_err ? ctx->errmsg : "";
}

void
gfsb_ctx_clearerr(struct gfsb_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->have_err = 0;
	ctx->errmsg[0] = '\0';
	pthread_mutex_unlock(&ctx->lock);
}

void
gfsb_ctx_cancel(struct gfsb_ctx *ctx)
{
	atomic_store(&ctx->canceled, 1);
}

int
gfsb_ctx_canceled(const struct gfsb_ctx *ctx)
{
	return atomic_load(&ctx->canceled);
}
