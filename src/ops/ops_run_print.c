/*
 * The daily job's outcome as its callers tell it: the documented exit
 * statuses (ARCHITECTURE.md's command-line surface), its stages as JSON
 * (`run --json`), and the report's and the monitor's lines.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

#include "ops_line.h"

int
gfsb_ops_exit_status(gfsb_err e)
{
	switch (e) {
	case GFSB_OK: return GFSB_EXIT_OK;
	case GFSB_ENOREPO: return GFSB_EXIT_NOREPO;
	case GFSB_ELOCKED: return GFSB_EXIT_LOCKED;
	case GFSB_EAUTH: return GFSB_EXIT_WRONGPASS;
	case GFSB_ECANCELED: return GFSB_EXIT_INTERRUPTED;
	default: return GFSB_EXIT_FATAL;
	}
}

int
gfsb_ops_config_exit(gfsb_err e)
{
	return e == GFSB_ENOMEM ? GFSB_EXIT_FATAL : GFSB_EXIT_USAGE;
}

int
gfsb_ops_run_stage_exit(const struct gfsb_run_stage *st)
{
	if (st->err != GFSB_OK)
		return gfsb_ops_exit_status(st->err);
	return st->partial ? GFSB_EXIT_PARTIAL : GFSB_EXIT_OK;
}

int
gfsb_ops_run_exit(const struct gfsb_run_result *res)
{
	if (res->failed != NULL)
		return gfsb_ops_run_stage_exit(res->failed);
	if (res->report_err != GFSB_OK)
		return GFSB_EXIT_FATAL;
	return res->partial ? GFSB_EXIT_PARTIAL : GFSB_EXIT_OK;
}

char *
gfsb_ops_run_json(const struct gfsb_run_result *res,
    const struct gfsb_time *now, int dry_run)
{
	const struct gfsb_run_stage *st;
	json_t *o, *a;
	char when[40], *s = NULL;
	size_t i;

	gfsb_time_format_rfc3339(now, when, sizeof(when));
	o = json_pack("{s:s, s:i, s:s, s:b, s:s}", "status",
	    gfsb_report_status_name(res->rep.status), "exit",
	    gfsb_ops_run_exit(res), "time", when, "dry_run", dry_run,
	    "snapshot", res->snapshot);
	a = json_array();
	if (o == NULL || a == NULL || json_object_set_new(o, "stages", a)) {
		json_decref(o);
		json_decref(a);
		return NULL;
	}
	for (i = 0; i < res->nstages; i++) {
		st = &res->stages[i];
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:s, "
		    "s:f}", "name", st->name, "status",
		    gfsb_report_status_name(st->status), "exit",
		    gfsb_ops_run_stage_exit(st), "summary", st->summary,
		    "seconds", st->seconds)) != 0)
			goto out;
	}
	s = json_dumps(o, JSON_INDENT(2));
out:
	json_decref(o);
	return s;
}

gfsb_err
gfsb_ops_run_report_lines(const struct gfsb_config *cfg,
    const struct gfsb_run_result *res, int dry_run, gfsb_ops_line_fn *fn,
    void *cookie)
{
	const char *status = gfsb_report_status_name(res->rep.status);
	struct ops_lines l;

	ops_line_init(&l, fn, cookie);
	if (dry_run) {
		ops_line_add(&l, "report: DRY RUN: would be %s, saved in %s",
		    status, res->report_dir);
		if (cfg->smtp_url != NULL)
			ops_line_add(&l, "; mailed %sto %s",
			    cfg->send_failures_only ? "if not OK " : "",
			    cfg->mail_to[0]);
		ops_line_end(&l, GFSB_OPS_LINE_WARNING);
		return ops_line_fini(&l);
	}
	ops_line_add(&l, "report: %s: %s%s (%.1f s)", status,
	    res->report_err == GFSB_OK ? "saved in " :
	    "NOT DELIVERED, see above; saved in ", res->report_dir,
	    res->report_seconds);
	ops_line_end(&l, GFSB_OPS_LINE_WARNING);
	/* Monitoring that failed is said; the job's outcome stands. */
	if (res->metrics_err != GFSB_OK) {
		ops_line_add(&l, "monitor: %s", res->metrics_error);
		ops_line_end(&l, GFSB_OPS_LINE_WARNING);
	}
	if (res->ping_err != GFSB_OK) {
		ops_line_add(&l, "monitor: %s", res->ping_error);
		ops_line_end(&l, GFSB_OPS_LINE_WARNING);
	}
	return ops_line_fini(&l);
}
