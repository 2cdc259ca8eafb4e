/*
 * gfsbackup sync: keep an offsite mirror of a repository, object for
 * object (either way: local to S3 every night, S3 to local to recover).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"
#include "cli_state.h"

struct sync_view {
	struct cli *c;
	double drawn; /* when the progress line was last drawn */
};

static void
progress(void *cookie, const struct gfsb_sync_progress *p)
{
	struct sync_view *v = cookie;
	char line[256];

	if (!gfsb_ops_progress_due(&v->drawn, p->seconds,
	    GFSB_OPS_PROGRESS_EVERY, p->objects_done >= p->objects_total))
		return;
	gfsb_ops_sync_progress_line(p, line, sizeof(line));
	cli_progress(v->c, line);
}

/* What the command line asks. */
struct sync_args {
	struct gfsb_sync_args sa;	/* settled by the library */
	struct gfsb_sync_opts so;
	struct gfsb_lock_opts lo;
	const char *to, *policy, *state_dir;
};

static const struct gfsb_opt_enum delete_modes[] = {
	{ "never", GFSB_SYNC_DELETE_NEVER },
	{ "after-lock", GFSB_SYNC_DELETE_AFTER_LOCK },
	{ NULL, 0 }
};

/* Parse the options into a; exit status. */
static int
parse(struct cli *c, int argc, char **argv, struct sync_args *a)
{
	int rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_STRING("to", 0, &a->to),
		GFSB_OPT_SET("no-delete", 0, &a->sa.delete_mode,
		    GFSB_SYNC_DELETE_NEVER),
		GFSB_OPT_ENUM("delete", 0, &a->sa.delete_mode, delete_modes),
		GFSB_OPT_FLAG("dry-run", 'n', &a->so.dry_run),
		GFSB_OPT_NUMBER("threads", 0, &a->so.threads, 1,
		    GFSB_SYNC_THREADS_MAX, NULL),
		GFSB_OPT_CALLBACK("object-lock", 0, &a->so.object_lock,
		    gfsb_ops_opt_lock_mode),
		GFSB_OPT_STRING("policy", 0, &a->policy),
		GFSB_OPT_DURATION("lock-margin", 0, &a->lo.margin, 0,
		    ": give e.g. 2d, 36h, 90s"),
		GFSB_OPT_STRING("state-dir", 0, &a->state_dir),
		GFSB_OPT_END
	};

	a->to = a->policy = a->state_dir = NULL;
	gfsb_ops_sync_opts_init(&a->sa, &a->so, &a->lo);
	if ((rc = cli_parse(c, argc, argv, opts, 0)) != EXIT_OK)
		return rc;
	if (a->to == NULL || *a->to == '\0')
		return cli_usage_error(c, "no mirror: give --to REPO2");
	return EXIT_OK;
}

int
cmd_sync(struct cli *c, int argc, char **argv)
{
	struct gfsb_policy *pol = NULL;
	struct gfsb_sync_result res;
	struct sync_args a;
	struct sync_view view;
	struct gfsb_backend *dst = NULL;
	char *ledger = NULL;
	gfsb_err e;
	int rc;

	if ((rc = parse(c, argc, argv, &a)) != EXIT_OK)
		return rc;
	if (a.policy != NULL && (e = gfsb_gfs_policy_load(c->ctx, a.policy,
	    &pol)) != GFSB_OK)
		return cli_config_fail(c, e);
	if ((rc = cli_open_url(c, a.to, &dst)) != EXIT_OK)
		goto out;
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto out;
	if (strcmp(gfsb_backend_location(c->be),
	    gfsb_backend_location(dst)) == 0) {
		rc = cli_usage_error(c, "--to %s is the repository itself",
		    a.to);
		goto out;
	}
	/* The dates of a locked mirror are kept beside the state. */
	if ((rc = cli_ledger_file(c, a.state_dir, c->r, dst, &ledger)) !=
	    EXIT_OK)
		goto out;
	a.sa.as_of = c->as_of;
	a.sa.connections = c->remote.connections;
	a.sa.cache_dir = c->cache_dir;
	a.sa.no_cache = c->no_cache;
	a.sa.policy = pol;
	a.sa.ledger = ledger;
	gfsb_ops_sync_settle(&a.sa, &a.so, &a.lo);
	memset(&view, 0, sizeof(view));
	view.c = c;
	view.drawn = -1;
	if (cli_tty(c)) {
		a.so.progress = progress;
		a.so.progress_cookie = &view;
	}
	e = gfsb_ops_sync(c->r, dst, &a.so, &res);
	cli_progress(c, NULL);
	if (gfsb_ops_sync_told(e, &res, a.so.dry_run, c->quiet, c->verbose,
	    cli_put_line, c) != GFSB_OK && e == GFSB_OK)
		e = GFSB_ENOMEM;
	rc = e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
out:
	gfsb_backend_close(dst);
	gfsb_gfs_policy_free(pol);
	free(ledger);
	return rc;
}
