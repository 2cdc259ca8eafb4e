/*
 * gfsbackup diff: what changed between two snapshots.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gfsbackup/ops.h>

#include "cli.h"

static gfsb_err
change(void *cookie, char mod, const char *path, const struct gfsb_node *a,
    const struct gfsb_node *b)
{
	const int *metadata = cookie;
	char line[4200];

	if (mod == 'U' && !*metadata)
		return GFSB_OK;
	gfsb_ops_diff_change_line(mod, path, a, b, line, sizeof(line));
	printf("%s\n", line);
	return GFSB_OK;
}

int
cmd_diff(struct cli *c, int argc, char **argv)
{
	struct gfsb_diff_result res;
	int json = 0, metadata = 0, rc;
	char *out;
	gfsb_err e;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_FLAG("json", 0, &json),
		GFSB_OPT_FLAG("metadata", 0, &metadata),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, 2)) != EXIT_OK)
		return rc;
	if (argc - optind != 2)
		return cli_usage_error(c, "give two snapshots");
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if (json) {
		if ((e = gfsb_ops_diff_json(c->r, argv[optind],
		    argv[optind + 1], &out, &res)) == GFSB_OK) {
			fputs(out, stdout);
			putchar('\n');
			free(out);
		}
	} else if ((e = gfsb_ops_diff(c->r, argv[optind], argv[optind + 1],
	    change, &metadata, &res)) == GFSB_OK) {
		printf("comparing snapshot %.8s to %.8s:\n", res.from, res.to);
		e = gfsb_ops_diff_lines(&res, cli_put_line, c);
	}
	return e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
}
