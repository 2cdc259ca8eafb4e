/*
 * gfsbackup ls: list the files in a snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

static const char usage[] =
"usage: gfsbackup ls -r REPO [-l] [--host HOST] SNAPSHOT [PATH]\n"
"\n"
"List the entries of a snapshot (an id prefix or \"latest\") under PATH\n"
"(default: everything), one absolute path per line.  -l adds the type\n"
"and mode, owner, size and modification time.\n";

enum { O_HOST = OPT_CMD_BASE };

static void
put_entry(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	/* ls's lines are results alone: standard output. */
	(void)cookie;
	(void)kind;
	printf("%s\n", line);
}

struct lsarg {
	int lng;
};

static gfsb_err
print_entry(void *cookie, const char *path, const struct gfsb_node *n)
{
	struct lsarg *a = cookie;

	return gfsb_ops_ls_entry(path, n, a->lng, put_entry, NULL);
}

int
cmd_ls(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "long", no_argument, NULL, 'l' },
		{ "host", required_argument, NULL, O_HOST },
		{ NULL, 0, NULL, 0 }
	};
	struct lsarg a = { 0 };
	const char *host = NULL;
	gfsb_err e;
	int o, rc;

	c->usage = usage;
	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT "l", opts)) !=
	    -1) {
		switch (o) {
		case 'l': a.lng = 1; break;
		case O_HOST: host = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind == argc)
		return cli_usage_error(c, "which snapshot? give an id or "
		    "\"latest\"");
	if (argc - optind > 2)
		return cli_usage_error(c, "unexpected argument %s",
		    argv[optind + 2]);
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	e = gfsb_ops_ls(c->r, argv[optind], host,
	    argc - optind == 2 ? argv[optind + 1] : NULL, print_entry, &a,
	    NULL);
	if (e != GFSB_OK)
		return cli_fail(c, e);
	return EXIT_OK;
}
