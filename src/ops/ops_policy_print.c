/*
 * A retention policy shown to a person, without any repository: daily
 * backups simulated under it (gfsb_gfs_simulate), and what it holds at
 * the end, by role, as gfsbackup policy show prints it.
 */
#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>

#include "ops_line.h"

/* Per role, how many of the held snapshots have it, and their ages. */
static void
roles(struct ops_lines *o, const struct gfsb_gfs_sim *sim)
{
	static const unsigned role[] = { GFSB_ROLE_DAILY, GFSB_ROLE_WEEKLY,
		GFSB_ROLE_MONTHLY, GFSB_ROLE_YEARLY, GFSB_ROLE_HOURLY,
		GFSB_ROLE_LAST, GFSB_ROLE_WITHIN };
	char name[32];
	size_t i, k, cnt;

	for (k = 0; k < sizeof(role) / sizeof(role[0]); k++) {
		for (i = cnt = 0; i < sim->held; i++)
			cnt += (sim->roles[i] & role[k]) != 0;
		if (cnt == 0)
			continue;
		ops_line_add(o, "  %-20s %3zu  ages (days):",
		    gfsb_ops_role_names(role[k], name, sizeof(name)), cnt);
		for (i = 0; i < sim->held; i++)
			if (sim->roles[i] & role[k])
				ops_line_add(o, " %d", sim->age_days[i]);
		ops_line_end(o, GFSB_OPS_LINE_RESULT);
	}
}

gfsb_err
gfsb_ops_policy_show(const struct gfsb_policy *p, const char *name,
    size_t days, const struct gfsb_time *end, gfsb_ops_line_fn *fn,
    void *cookie)
{
	struct gfsb_gfs_sim sim;
	struct ops_lines o;
	char desc[512], when[32];
	gfsb_err e;

	if (days == 0)
		days = gfsb_gfs_sim_days(p);
	if ((e = gfsb_gfs_simulate(p, days, end, &sim)) != GFSB_OK)
		return e;
	ops_line_init(&o, fn, cookie);
	gfsb_time_format_local(end, when, sizeof(when));
	ops_line_put(&o, "policy %s: %s", name,
	    gfsb_gfs_policy_describe(p, desc, sizeof(desc)));
	ops_line_put(&o, "simulated %zu daily backups up to %s, forgetting "
	    "after each", days, when);
	ops_line_put(&o, "held at the end: %zu snapshots (at most %zu at any "
	    "time); the oldest is %d days old", sim.held, sim.max_held,
	    sim.held ? sim.age_days[sim.held - 1] : 0);
	roles(&o, &sim);
	if (p->nlists > 0)
		ops_line_put(&o, "  (snapshots with the policy's tags are also "
		    "kept, whatever their age)");
	gfsb_gfs_sim_fini(&sim);
	return ops_line_fini(&o);
}
