/*
 * gfsbackup unlock: remove stale locks (or all, with --remove-all).
 */
#include <stdio.h>

#include <gfsbackup/repo.h>

#include "cli.h"

static const char usage[] =
"usage: gfsbackup unlock -r REPO [--remove-all]\n"
"\n"
"Remove stale locks: those whose process is gone on this host, or that\n"
"were not refreshed for 30 minutes.  --remove-all removes every lock; use\n"
"it only when no other gfsbackup is running on the repository.\n";

enum { O_ALL = OPT_CMD_BASE };

int
cmd_unlock(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "remove-all", no_argument, NULL, O_ALL },
		{ NULL, 0, NULL, 0 }
	};
	size_t removed = 0;
	gfsb_err e;
	int o, all = 0, rc;

	c->usage = usage;
	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT, opts)) != -1) {
		switch (o) {
		case O_ALL: all = 1; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error(c, "unexpected argument %s",
		    argv[optind]);
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_repo_unlock_stale(c->r, all, &removed)) != GFSB_OK)
		return cli_fail(c, e);
	printf("removed %zu lock%s\n", removed, removed == 1 ? "" : "s");
	return EXIT_OK;
}
