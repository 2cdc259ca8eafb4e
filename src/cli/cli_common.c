/*
 * What every subcommand shares: passphrases, opening the repository,
 * messages, and exit statuses (options: cli_opt.c).
 *
 * Passphrases are never taken from argv: the library reads them
 * (gfsb_pass_read) from a file, a command, the environment or the
 * terminal, into secure memory; here only the sources are chosen and the
 * failures said.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/pass.h>
#include <gfsbackup/repo.h>

#include "cli.h"

int
cli_tty(struct cli *c)
{
	return !c->quiet && isatty(STDERR_FILENO);
}

void
cli_progress(struct cli *c, const char *line)
{
	if (!cli_tty(c))
		return;
	if (line == NULL) {
		if (c->progress_shown)
			fputs("\r\033[K", stderr);
		c->progress_shown = 0;
	} else {
		fprintf(stderr, "\r\033[K%s", line);
		c->progress_shown = 1;
	}
	fflush(stderr);
}

void
cli_msg(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	cli_progress(c, NULL);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_put_line(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	struct cli *c = cookie;

	if (kind == GFSB_OPS_LINE_WARNING)
		cli_msg(c, "%s", line);
	else
		printf("%s\n", line);
}

int
cli_usage_error(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s", c->prog, c->cmd ? c->cmd : "",
	    c->cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see `%s %s%s--help`)\n", c->prog,
	    c->cmd ? c->cmd : "", c->cmd ? " " : "");
	return EXIT_USAGE;
}

int
cli_fail(struct cli *c, gfsb_err e)
{
	const char *detail = c->ctx ? gfsb_ctx_errmsg(c->ctx) : "";

	c->last_err = e;
	cli_progress(c, NULL);
	fprintf(stderr, "%s: %s: %s\n", c->prog, c->cmd ? c->cmd : "error",
	    detail[0] ? detail : gfsb_strerror(e));
	return gfsb_ops_exit_status(e);
}

int
cli_config_fail(struct cli *c, gfsb_err e)
{
	cli_fail(c, e);
	return gfsb_ops_config_exit(e);
}

/* Opening failed with e at step: say why; the exit status. */
static int
open_fail(struct cli *c, gfsb_err e, enum gfsb_open_step step)
{
	int rc = gfsb_ops_open_exit(c->ctx, e, step);

	cli_fail(c, e);
	return rc;
}

int
cli_pass_read(struct cli *c, const struct gfsb_pass_source *src, char **out,
    size_t *len)
{
	gfsb_err e;

	/* Only this read's detail: earlier ones were said or do not
	 * matter now. */
	gfsb_ctx_clearerr(c->ctx);
	if ((e = gfsb_pass_read(c->ctx, src, out, len)) == GFSB_OK)
		return EXIT_OK;
	return open_fail(c, e, GFSB_OPEN_PASS);
}

struct gfsb_pass_source
cli_pass_source(struct cli *c, int confirm, const char *prompt)
{
	struct gfsb_pass_source src = {
		.file = c->password_file,
		.command = c->password_command,
		.use_env = 1,
		.prompt = prompt,
		.confirm = confirm,
	};

	return src;
}

int
cli_passphrase(struct cli *c, int confirm, const char *prompt, char **out,
    size_t *len)
{
	struct gfsb_pass_source src = cli_pass_source(c, confirm, prompt);

	return cli_pass_read(c, &src, out, len);
}

int
cli_open_url(struct cli *c, const char *url, struct gfsb_backend **out)
{
	gfsb_err e;

	if ((e = gfsb_backend_open_opts(c->ctx, url, &c->remote, out)) !=
	    GFSB_OK)
		return open_fail(c, e, GFSB_OPEN_BACKEND);
	return EXIT_OK;
}

/* -r, else GFSBACKUP_REPOSITORY: there must be one. */
static int
repo_url(struct cli *c)
{
	if (gfsb_ops_repo_url(c->ctx, c->repo, &c->repo) != GFSB_OK)
		return cli_usage_error(c, "%s", gfsb_ctx_errmsg(c->ctx));
	return EXIT_OK;
}

int
cli_open_backend(struct cli *c)
{
	struct gfsb_backend_opts o = c->remote;
	gfsb_err e;
	int rc;

	if ((rc = repo_url(c)) != EXIT_OK)
		return rc;
	o.as_of = c->as_of;
	if ((e = gfsb_backend_open_opts(c->ctx, c->repo, &o, &c->be)) !=
	    GFSB_OK)
		return open_fail(c, e, GFSB_OPEN_BACKEND);
	return EXIT_OK;
}

void
cli_open_opts(struct cli *c, const struct gfsb_pass_source *pass,
    struct gfsb_open_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = c->repo;
	o->remote = &c->remote;
	o->as_of = c->as_of;
	o->pass = pass;
	o->retry_lock = c->retry_lock;
	o->cache_dir = c->cache_dir;
	o->no_cache = c->no_cache;
}

int
cli_open_repo(struct cli *c)
{
	struct gfsb_pass_source src = cli_pass_source(c, 0,
	    "repository passphrase: ");
	struct gfsb_open_opts o;
	enum gfsb_open_step step;
	gfsb_err e;
	int rc;

	if ((rc = repo_url(c)) != EXIT_OK)
		return rc;
	cli_open_opts(c, &src, &o);
	if ((e = gfsb_ops_open(c->ctx, &o, &c->be, &c->r, &step)) == GFSB_OK)
		return EXIT_OK;
	return open_fail(c, e, step);
}

void
cli_close(struct cli *c)
{
	gfsb_repo_close(c->r);
	c->r = NULL;
	gfsb_backend_close(c->be);
	c->be = NULL;
}

const char *
cli_help(const char *name)
{
	const struct cli_help *h;

	for (h = cli_helps; h->name != NULL; h++)
		if (strcmp(h->name, name) == 0)
			return h->text;
	return "";
}
