/*
 * gfsbackup snapshots: list snapshots as a table or restic-shaped JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/repo.h>

#include "cli.h"

static const char usage[] =
"usage: gfsbackup snapshots -r REPO [--json] [--host HOST] [--tag TAG]\n"
"                           [--path PATH]\n"
"\n"
"List snapshots, oldest first.  --json prints restic's shape: a list of\n"
"{id, short_id, time, hostname, username, paths, tags, tree, parent, ...}.\n";

static int
has(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static size_t
maxlen(size_t a, size_t b)
{
	return a > b ? a : b;
}

static void
rule(size_t n)
{
	while (n-- > 0)
		putchar('-');
	putchar('\n');
}

int
cmd_snapshots(struct cli *c, int argc, char **argv)
{
	struct gfsb_snapshot **list = NULL, **sel = NULL;
	const char *host = NULL, *tag = NULL, *path = NULL;
	size_t n = 0, ns = 0, i, k, wh = 4, wt = 4, lines;
	char when[32], *json;
	int want_json = 0, rc = EXIT_OK;
	gfsb_err e;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG("json", 0, &want_json),
		CLI_OPT_STRING("host", 0, &host),
		CLI_OPT_STRING("tag", 0, &tag),
		CLI_OPT_STRING("path", 0, &path),
		CLI_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, usage, opts, 0)) != EXIT_OK ||
	    (rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_repo_snapshot_list(c->r, &list, &n)) != GFSB_OK)
		return cli_fail(c, e);
	if (n > 0 && (sel = calloc(n, sizeof(*sel))) == NULL) {
		gfsb_repo_snapshot_list_free(list, n);
		return cli_fail(c, GFSB_ENOMEM);
	}
	for (i = 0; i < n; i++) {
		if ((host && strcmp(list[i]->hostname, host) != 0) ||
		    (tag && !has(list[i]->tags, list[i]->ntags, tag)) ||
		    (path && !has(list[i]->paths, list[i]->npaths, path)))
			continue;
		sel[ns++] = list[i];
	}
	if (want_json) {
		if ((json = gfsb_repo_snapshot_json(sel, ns)) == NULL) {
			rc = cli_fail(c, GFSB_ENOMEM);
			goto out;
		}
		printf("%s\n", json);
		free(json);
		goto out;
	}
	for (i = 0; i < ns; i++) {
		wh = maxlen(wh, strlen(sel[i]->hostname));
		for (k = 0; k < sel[i]->ntags; k++)
			wt = maxlen(wt, strlen(sel[i]->tags[k]));
	}
	printf("%-8s  %-19s  %-*s  %-*s  %s\n", "ID", "Time", (int)wh, "Host",
	    (int)wt, "Tags", "Paths");
	rule(8 + 2 + 19 + 2 + wh + 2 + wt + 2 + 20);
	for (i = 0; i < ns; i++) {
		struct gfsb_snapshot *s = sel[i];

		gfsb_time_format_local(&s->time, when, sizeof(when));
		lines = maxlen(s->npaths, s->ntags);
		if (lines == 0)
			lines = 1;
		for (k = 0; k < lines; k++)
			printf("%-8.8s  %-19s  %-*s  %-*s  %s\n",
			    k == 0 ? s->id : "", k == 0 ? when : "", (int)wh,
			    k == 0 ? s->hostname : "", (int)wt,
			    k < s->ntags ? s->tags[k] : "",
			    k < s->npaths ? s->paths[k] : "");
	}
	rule(8 + 2 + 19 + 2 + wh + 2 + wt + 2 + 20);
	printf("%zu snapshot%s\n", ns, ns == 1 ? "" : "s");
out:
	free(sel);
	gfsb_repo_snapshot_list_free(list, n);
	return rc;
}
