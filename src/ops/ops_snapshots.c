/*
 * The snapshots listed for a person: which of them a listing selects,
 * and the table gfsbackup snapshots prints (oldest first, as given).  The
 * JSON is gfsb_repo_snapshot_json.
 */
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_line.h"

static int
has(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

gfsb_err
gfsb_ops_snapshots_list(struct gfsb_repo *r, struct gfsb_snapshot ***out,
    size_t *n)
{
	if (gfsb_repo_write_only(r))
		return gfsb_repo_writer_snapshots(r, out, n);
	return gfsb_repo_snapshot_list(r, out, n);
}

int
gfsb_ops_snapshots_match(const struct gfsb_snapshot *s, const char *host,
    const char *tag, const char *path)
{
	return (host == NULL || strcmp(s->hostname, host) == 0) &&
	    (tag == NULL || has(s->tags, s->ntags, tag)) &&
	    (path == NULL || has(s->paths, s->npaths, path));
}

void
gfsb_ops_snapshots_filter(struct gfsb_snapshot **v, size_t *n,
    const char *host, const char *tag, const char *path)
{
	size_t i, k = 0;

	for (i = 0; i < *n; i++) {
		if (gfsb_ops_snapshots_match(v[i], host, tag, path))
			v[k++] = v[i];
		else
			gfsb_repo_snapshot_free(v[i]);
	}
	*n = k;
}

static size_t
maxlen(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* A rule across the table, n wide. */
static void
rule(struct ops_lines *o, size_t n)
{
	while (n-- > 0)
		ops_line_add(o, "-");
	ops_line_end(o, GFSB_OPS_LINE_RESULT);
}

/* A snapshot's lines: one, or one per tag or path. */
static void
row(struct ops_lines *o, const struct gfsb_snapshot *s, int wh, int wt)
{
	char when[32];
	size_t k, lines;

	gfsb_time_format_local(&s->time, when, sizeof(when));
	lines = maxlen(s->npaths, s->ntags);
	if (lines == 0)
		lines = 1;
	for (k = 0; k < lines; k++)
		ops_line_put(o, "%-8.8s  %-19s  %-*s  %-*s  %s",
		    k == 0 ? s->id : "", k == 0 ? when : "", wh,
		    k == 0 ? s->hostname : "", wt,
		    k < s->ntags ? s->tags[k] : "",
		    k < s->npaths ? s->paths[k] : "");
}

gfsb_err
gfsb_ops_snapshots_lines(struct gfsb_snapshot *const *s, size_t n,
    gfsb_ops_line_fn *fn, void *cookie)
{
	struct ops_lines o;
	size_t i, k, wh = 4, wt = 4;

	for (i = 0; i < n; i++) {
		wh = maxlen(wh, strlen(s[i]->hostname));
		for (k = 0; k < s[i]->ntags; k++)
			wt = maxlen(wt, strlen(s[i]->tags[k]));
	}
	ops_line_init(&o, fn, cookie);
	ops_line_put(&o, "%-8s  %-19s  %-*s  %-*s  %s", "ID", "Time", (int)wh,
	    "Host", (int)wt, "Tags", "Paths");
	rule(&o, 8 + 2 + 19 + 2 + wh + 2 + wt + 2 + 20);
	for (i = 0; i < n; i++)
		row(&o, s[i], (int)wh, (int)wt);
	rule(&o, 8 + 2 + 19 + 2 + wh + 2 + wt + 2 + 20);
	ops_line_put(&o, "%zu snapshot%s", n, n == 1 ? "" : "s");
	return ops_line_fini(&o);
}
