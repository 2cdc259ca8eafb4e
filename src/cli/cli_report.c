/*
 * The report and the state files as the commands use them: the library's
 * (src/ops/ops_report_build.c) with its errors said and turned into exit
 * statuses, and the drill with its progress on a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

#include "cli.h"
#include "cli_report.h"

int
cli_state_base(struct cli *c, const char *dir, char *base, size_t len)
{
	gfsb_err e;

	if ((e = gfsb_ops_state_base(c->ctx, dir, base, len)) == GFSB_OK)
		return EXIT_OK;
	return cli_usage_error(c, "%s (--state-dir)", gfsb_ctx_errmsg(c->ctx));
}

static int
state_file(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, enum gfsb_state_kind kind, char **out)
{
	gfsb_err e;

	if ((e = gfsb_ops_state_file(c->ctx, dir, r, be, kind, out)) ==
	    GFSB_OK)
		return EXIT_OK;
	if (e == GFSB_EINVAL)
		return cli_usage_error(c, "%s (--state-dir)",
		    gfsb_ctx_errmsg(c->ctx));
	return cli_fail(c, e);
}

int
cli_state_file_for(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out)
{
	/* A mirror's packs are read on their own days. */
	return state_file(c, dir, r, be, GFSB_STATE_VERIFY, out);
}

int
cli_state_file(struct cli *c, const char *dir, char **out)
{
	return state_file(c, dir, c->r, c->be, GFSB_STATE_VERIFY, out);
}

int
cli_ledger_file(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out)
{
	return state_file(c, dir, r, be, GFSB_STATE_LOCKS, out);
}

int
cli_drill_file(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out)
{
	return state_file(c, dir, r, be, GFSB_STATE_DRILL, out);
}

static void
drill_progress(void *cookie, const struct gfsb_restore_progress *p)
{
	char line[256];

	gfsb_ops_restore_progress_line(p, line, sizeof(line));
	cli_progress(cookie, line);
}

int
cli_drill(struct cli *c, const char *dir, struct gfsb_backend *be,
    const struct gfsb_drill_opts *o, const struct gfsb_time *now,
    char **record, struct gfsb_drill_result *res, char *why, size_t len)
{
	struct gfsb_drill_opts ro = *o;
	gfsb_err e;
	int rc;

	memset(res, 0, sizeof(*res));
	snprintf(why, len, "no state directory");
	if ((rc = cli_drill_file(c, dir, c->r, be, record)) != EXIT_OK)
		return rc;
	if (cli_tty(c)) {
		ro.progress = drill_progress;
		ro.progress_cookie = c;
	}
	e = gfsb_ops_drill_copy(c->r, be, &ro, *record, now, res);
	cli_progress(c, NULL);
	if (e != GFSB_OK) {
		snprintf(why, len, "%s", *gfsb_ctx_errmsg(c->ctx) ?
		    gfsb_ctx_errmsg(c->ctx) : gfsb_strerror(e));
		rc = cli_fail(c, e);
		gfsb_ctx_clearerr(c->ctx);
		return rc;
	}
	return res->failed > 0 ? EXIT_FATAL : EXIT_OK;
}

int
cli_report_fill_repo(struct cli *c, struct gfsb_report *rep,
    const struct gfsb_policy *pol, const struct gfsb_time *now)
{
	gfsb_err e;

	e = gfsb_ops_report_fill_repo(c->r, rep, c->repo, pol, now);
	return e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
}

int
cli_report_fill_offsite(struct cli *c, struct gfsb_report *rep,
    const char *url)
{
	struct gfsb_backend *dst = NULL;
	gfsb_err e;
	int rc;

	if ((rc = cli_open_url(c, url, &dst)) != EXIT_OK)
		return rc;
	e = gfsb_ops_report_fill_offsite(c->r, rep, dst, url,
	    c->remote.connections > 0 ? (unsigned)c->remote.connections : 4);
	gfsb_backend_close(dst);
	return e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
}

int
cli_report_deliver(struct cli *c, const struct gfsb_report *rep,
    const struct cli_mail *m, const char *dir, unsigned keep_days)
{
	struct gfsb_report_delivery d;
	struct gfsb_mail_opts mo;
	gfsb_err e;

	memset(&d, 0, sizeof(d));
	memset(&mo, 0, sizeof(mo));
	d.dir = dir;
	d.keep_days = keep_days;
	if (m != NULL && m->url != NULL) {
		mo.url = m->url;
		mo.from = m->from;
		mo.to = m->to;
		mo.nto = m->nto;
		mo.user = m->user;
		mo.password_file = m->password_file;
		mo.cacert = m->cacert;
		d.mail = &mo;
		d.failures_only = m->failures_only;
	}
	if ((e = gfsb_ops_report_deliver(c->ctx, rep, &d)) == GFSB_OK)
		return EXIT_OK;
	cli_fail(c, e);
	gfsb_ctx_clearerr(c->ctx);
	return EXIT_FATAL;
}
