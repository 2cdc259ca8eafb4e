/*
 * gfsbackup prune: reclaim the space of data no snapshot uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

static const char usage[] =
"usage: gfsbackup prune -r REPO [--max-unused PCT] [--dry-run]\n"
"\n"
"Delete the data that no remaining snapshot uses: packs holding only such\n"
"data are deleted, packs where it is more than PCT (default 5%) of their\n"
"size are rewritten without it.  Every blob that is kept is checked before\n"
"it is copied.  Takes the exclusive lock.  A prune that is interrupted at\n"
"any moment leaves every snapshot restorable; run it again to finish.\n"
"\n"
"  --max-unused PCT   unused share a pack may keep (e.g. 5%, 0%, 20%)\n"
"  -n, --dry-run      say what would be done, change nothing\n";

enum { O_MAXUNUSED = OPT_CMD_BASE };

double
cli_percent(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || (*end != '\0' && strcmp(end, "%") != 0) || v < 0 ||
	    v > 100)
		return -1;
	return v / 100.0;
}

void
cli_print_prune(struct cli *c, const struct gfsb_prune_result *res,
    double max_unused, int dry_run)
{
	/* The prune is done: a line lost for memory is said, not fatal. */
	if (gfsb_ops_prune_lines(res, max_unused, dry_run, cli_put_line, c) !=
	    GFSB_OK)
		cli_fail(c, GFSB_ENOMEM);
}

int
cmd_prune(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "max-unused", required_argument, NULL, O_MAXUNUSED },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct gfsb_prune_opts po;
	struct gfsb_prune_result res;
	gfsb_err e;
	int o, rc;

	c->usage = usage;
	memset(&po, 0, sizeof(po));
	po.max_unused = 0.05;
	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT "n", opts)) !=
	    -1) {
		switch (o) {
		case O_MAXUNUSED:
			if ((po.max_unused = cli_percent(optarg)) < 0)
				return cli_usage_error(c, "invalid --max-unused "
				    "%s: give a percentage like 5%%", optarg);
			break;
		case 'n':
			po.dry_run = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error(c, "unexpected argument %s",
		    argv[optind]);
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_ops_prune(c->r, &po, &res)) != GFSB_OK)
		return cli_fail(c, e);
	cli_print_prune(c, &res, po.max_unused, po.dry_run);
	return EXIT_OK;
}
