/*
 * gfsbackup find: which snapshots hold a path.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

struct finding {
	struct cli *c;
	const struct gfsb_snapshot *last;	/* whose heading is out */
};

static gfsb_err
found(void *cookie, const struct gfsb_snapshot *s, const char *path,
    const struct gfsb_node *n)
{
	struct finding *f = cookie;
	char when[32];

	if (s != f->last) {
		f->last = s;
		gfsb_time_format_local(&s->time, when, sizeof(when));
		printf("snapshot %.8s of %s, %s:\n", s->id, s->hostname, when);
	}
	return gfsb_ops_ls_entry(path, n, 1, cli_put_line, f->c);
}

int
cmd_find(struct cli *c, int argc, char **argv)
{
	struct gfsb_find_opts fo = { 0 };
	struct gfsb_find_result res;
	struct finding f = { c, NULL };
	struct gfsb_opt_list snaps = { 0 };
	int json = 0, rc;
	char *out;
	gfsb_err e;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_FLAG("json", 0, &json),
		GFSB_OPT_LIST("snapshot", 's', &snaps),
		GFSB_OPT_STRING("host", 0, &fo.host),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, GFSB_OPT_ANY_ARGS)) != EXIT_OK)
		goto out;
	if (optind == argc) {
		rc = cli_usage_error(c, "nothing to find: give a pattern");
		goto out;
	}
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		goto out;
	fo.patterns = (const char *const *)argv + optind;
	fo.npatterns = (size_t)(argc - optind);
	fo.snapshots = snaps.v;
	fo.nsnapshots = snaps.n;
	if (!json) {
		e = gfsb_ops_find(c->r, &fo, found, &f, &res);
		if (e == GFSB_OK)
			printf("%llu matches in %llu of %llu snapshots\n",
			    (unsigned long long)res.matches,
			    (unsigned long long)res.snapshots_matched,
			    (unsigned long long)res.snapshots);
	} else if ((e = gfsb_ops_find_json(c->r, &fo, &out, &res)) ==
	    GFSB_OK) {
		printf("%s\n", out);
		free(out);
	}
	rc = e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
out:
	free(snaps.v);
	return rc;
}
