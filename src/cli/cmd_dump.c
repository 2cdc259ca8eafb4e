/*
 * gfsbackup dump: one file of a snapshot to standard output, or a
 * directory as a tar archive.
 */
#include <string.h>
#include <unistd.h>

#include <gfsbackup/ops.h>

#include "cli.h"

int
cmd_dump(struct cli *c, int argc, char **argv)
{
	struct gfsb_dump_opts o = { 0 };
	struct gfsb_dump_result res;
	gfsb_err e;
	int rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_STRING("host", 0, &o.host),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, 1)) != EXIT_OK)
		return rc;
	if (optind == argc)
		return cli_usage_error(c, "what to dump? give SNAPSHOT:PATH");
	if (isatty(STDOUT_FILENO))
		return cli_usage_error(c, "standard output is a terminal: "
		    "redirect it to a file or a pipe");
	o.path = gfsb_ops_spec_split(argv[optind]);
	o.snapshot = argv[optind];
	o.fd = STDOUT_FILENO;
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_ops_dump(c->r, &o, &res)) != GFSB_OK)
		return cli_fail(c, e);
	return res.damaged_files > 0 ? EXIT_FATAL : EXIT_OK;
}
