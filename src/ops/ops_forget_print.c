/*
 * A forget told to a person: the decisions gfsbackup forget prints (the
 * policy, a table per group, the totals) and the snapshots it removed by
 * name.  The JSON is gfsb_ops_forget_json (ops_forget.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_line.h"

/* What the group has in common, then a row per snapshot, then its sum. */
static void
group(struct ops_lines *o, const struct gfsb_forget_group *g)
{
	char when[32], roles[160];
	size_t i, k;

	ops_line_add(o, "snapshots");
	if (g->host)
		ops_line_add(o, " of host %s", g->host);
	for (i = 0; g->paths && i < g->npaths; i++)
		ops_line_add(o, "%s%s", i ? " " : ", paths ", g->paths[i]);
	for (i = 0; g->tags && i < g->ntags; i++)
		ops_line_add(o, "%s%s", i ? "," : ", tags ", g->tags[i]);
	ops_line_put(o, ":");
	ops_line_put(o, "%-8s  %-19s  %-6s  %-52s  %s", "ID", "Time", "Action",
	    "Roles", "Reasons");
	for (i = 0; i < g->n; i++) {
		const struct gfsb_gfs_decision *d = &g->dec[i];

		gfsb_time_format_local(&g->snaps[i]->time, when, sizeof(when));
		gfsb_ops_role_names(d->roles, roles, sizeof(roles));
		ops_line_add(o, "%-8.8s  %-19s  %-6s  %-52s  ", g->snaps[i]->id,
		    when, d->keep ? "keep" : "remove", roles);
		for (k = 0; k < d->nreasons; k++)
			ops_line_add(o, "%s%s", k ? ", " : "", d->reasons[k]);
		ops_line_end(o, GFSB_OPS_LINE_RESULT);
	}
	ops_line_put(o, "keep %zu, remove %zu of %zu snapshots", g->nkeep,
	    g->n - g->nkeep, g->n);
	ops_line_end(o, GFSB_OPS_LINE_RESULT);
}

gfsb_err
gfsb_ops_forget_lines(const struct gfsb_forget_result *res,
    const struct gfsb_policy *policy, int dry_run, gfsb_ops_line_fn *fn,
    void *cookie)
{
	struct ops_lines o;
	char desc[512], waiting[256];
	size_t i;

	ops_line_init(&o, fn, cookie);
	ops_line_put(&o, "policy: %s", gfsb_gfs_policy_describe(policy, desc,
	    sizeof(desc)));
	ops_line_end(&o, GFSB_OPS_LINE_RESULT);
	for (i = 0; i < res->ngroups; i++)
		group(&o, &res->groups[i]);
	ops_line_put(&o, "total: keep %zu, remove %zu snapshots%s", res->kept,
	    res->removed, dry_run ? " (dry run: nothing was removed)" : "");
	if (res->waiting > 0) {
		gfsb_ops_prune_waiting_line("snapshots", res->waiting,
		    res->waiting_until, waiting, sizeof(waiting));
		ops_line_put(&o, "%s", waiting);
	}
	return ops_line_fini(&o);
}

gfsb_err
gfsb_ops_forget_ids_lines(const struct gfsb_forget_ids_result *res,
    int dry_run, gfsb_ops_line_fn *fn, void *cookie)
{
	struct ops_lines o;
	char when[64];
	size_t i;

	ops_line_init(&o, fn, cookie);
	for (i = 0; i < res->n; i++) {
		const struct gfsb_snapshot *s = res->snaps[i];

		gfsb_time_format_local(&s->time, when, sizeof(when));
		ops_line_put(&o, "%s snapshot %.8s of %s, %s%s%s", dry_run ?
		    "would remove" : "removed", s->id, s->hostname, when,
		    s->npaths > 0 ? ", " : "", s->npaths > 0 ? s->paths[0] :
		    "");
	}
	return ops_line_fini(&o);
}

gfsb_err
gfsb_ops_forget_told(const struct gfsb_forget_result *res,
    const struct gfsb_policy *policy, int dry_run, int json,
    gfsb_ops_line_fn *fn, void *cookie)
{
	char *doc;

	if (!json)
		return gfsb_ops_forget_lines(res, policy, dry_run, fn, cookie);
	if ((doc = gfsb_ops_forget_json(res)) == NULL)
		return GFSB_ENOMEM;
	fn(cookie, GFSB_OPS_LINE_RESULT, doc);
	free(doc);
	return GFSB_OK;
}

gfsb_err
gfsb_ops_forget_ids_told(const struct gfsb_forget_ids_result *res,
    int dry_run, int quiet, gfsb_ops_line_fn *fn, void *cookie)
{
	char line[256];
	gfsb_err e = GFSB_OK;

	if (!quiet)
		e = gfsb_ops_forget_ids_lines(res, dry_run, fn, cookie);
	/* Said even when quiet: they are not gone. */
	if (res->waiting > 0) {
		gfsb_ops_prune_waiting_line("snapshots", res->waiting,
		    res->waiting_until, line, sizeof(line));
		fn(cookie, GFSB_OPS_LINE_RESULT, line);
	}
	return e;
}
