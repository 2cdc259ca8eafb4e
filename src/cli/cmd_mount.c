/*
 * gfsbackup mount: browse the snapshots as a read-only file system.
 */
#include <signal.h>
#include <stdio.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

struct mount_cli {
	struct cli *c;
	const char *at;
};

static void
ready(void *cookie)
{
	struct mount_cli *mc = cookie;

	if (!mc->c->quiet)
		cli_msg(mc->c, "%s: mount: snapshots at %s (ids/, snapshots/, "
		    "hosts/, tags/, daily/ ... latest); unmount with "
		    "`fusermount3 -u %s` or Ctrl-C", mc->c->prog, mc->at,
		    mc->at);
}

int
cmd_mount(struct cli *c, int argc, char **argv)
{
	struct gfsb_mount_opts mo = { 0 };
	struct gfsb_policy *pol = NULL;
	struct gfsb_backend_io io0, io;
	struct mount_cli mc;
	const char *policy = NULL;
	char line[256];
	gfsb_err e;
	int rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_STRING("policy", 0, &policy),
		GFSB_OPT_FLAG("allow-other", 0, &mo.allow_other),
		GFSB_OPT_FLAG("no-lock", 0, &mo.no_lock),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, 1)) != EXIT_OK)
		return rc;
	if (optind == argc)
		return cli_usage_error(c, "where? give a mount point");
	if (policy != NULL && (e = gfsb_gfs_policy_load(c->ctx, policy,
	    &pol)) != GFSB_OK)
		return cli_config_fail(c, e);
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto out;
	mc.c = c;
	mc.at = argv[optind];
	mo.mountpoint = argv[optind];
	mo.policy = pol;
	mo.ready = ready;
	mo.cookie = &mc;
	/* FUSE's handlers end the loop and unmount: leave them the signals. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	gfsb_backend_io_get(c->be, &io0);
	e = gfsb_ops_mount(c->r, &mo);
	gfsb_ops_backend_io_since(c->be, &io0, &io);
	if (e != GFSB_OK) {
		rc = cli_fail(c, e);
		goto out;
	}
	if (!c->quiet) {
		gfsb_ops_io_line("unmounted; the repository", &io, line,
		    sizeof(line));
		cli_msg(c, "%s: mount: %s", c->prog, line);
	}
out:
	gfsb_gfs_policy_free(pol);
	return rc;
}
