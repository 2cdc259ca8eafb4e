/*
 * report: the facts of a report and the lines appended to it.  The status
 * only ever rises: an error or a damaged object makes the report FAILED,
 * a warning makes it at least WARNING, and nothing makes it better again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/report.h>

#include "report_internal.h"

const char *const gfsb_report_damage_advice[] = {
	"if the other copy verifies clean, `gfsbackup sync` from it;",
	"otherwise `gfsbackup repair index --read-data`; the next backup",
	"then stores again what the server still has",
	NULL
};

const char *
gfsb_report_status_name(enum gfsb_report_status s)
{
	switch (s) {
	case GFSB_REPORT_OK:
		return "OK";
	case GFSB_REPORT_WARNING:
		return "WARNING";
	case GFSB_REPORT_FAILED:
		return "FAILED";
	}
	return "FAILED";
}

void
gfsb_report_init(struct gfsb_report *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->status = GFSB_REPORT_OK;
	r->backup_seconds = -1;
	r->days_since_all_read = -1;
	for (i = 0; i < GFSB_REPORT_DAYS; i++) {
		r->days[i].repo_size = -1;
		r->days[i].new_data = -1;
	}
}

static void
free_lines(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
gfsb_report_fini(struct gfsb_report *r)
{
	size_t i;

	free(r->host);
	free(r->repo);
	free(r->policy);
	free(r->snaps);
	free_lines(r->groups, r->ngroups);
	for (i = 0; i < r->nhosts; i++)
		free(r->hosts[i].name);
	free(r->hosts);
	free(r->offsite_repo);
	free(r->offsite_error);
	free(r->read_mode);
	free_lines(r->damage, r->ndamage);
	free_lines(r->errors, r->nerrors);
	free_lines(r->warnings, r->nwarnings);
	free(r->drill.repo);
	free_lines(r->drill.failed_files, r->drill.nfailed_files);
	for (i = 0; i < r->nstages; i++) {
		free(r->stages[i].name);
		free(r->stages[i].summary);
	}
	free(r->stages);
	gfsb_report_init(r);
}

static void
raise_status(struct gfsb_report *r, enum gfsb_report_status s)
{
	if (s > r->status)
		r->status = s;
}

gfsb_err
gfsb_report_add_error(struct gfsb_report *r, const char *fmt, ...)
{
	va_list ap;
	gfsb_err e;

	va_start(ap, fmt);
	e = gfsb_strv_vaddf(&r->errors, &r->nerrors, fmt, ap);
	va_end(ap);
	raise_status(r, GFSB_REPORT_FAILED);
	return e;
}

gfsb_err
gfsb_report_add_warning(struct gfsb_report *r, const char *fmt, ...)
{
	va_list ap;
	gfsb_err e;

	va_start(ap, fmt);
	e = gfsb_strv_vaddf(&r->warnings, &r->nwarnings, fmt, ap);
	va_end(ap);
	raise_status(r, GFSB_REPORT_WARNING);
	return e;
}

gfsb_err
gfsb_report_add_damage(struct gfsb_report *r, const char *fmt, ...)
{
	va_list ap;
	gfsb_err e;

	va_start(ap, fmt);
	e = gfsb_strv_vaddf(&r->damage, &r->ndamage, fmt, ap);
	va_end(ap);
	raise_status(r, GFSB_REPORT_FAILED);
	return e;
}

gfsb_err
gfsb_report_add_stage(struct gfsb_report *r, const char *name,
    enum gfsb_report_status status, const char *fmt, ...)
{
	struct gfsb_report_stage *nv;
	char *n, *s;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return GFSB_ENOMEM;
	if ((n = strdup(name)) == NULL ||
	    (nv = realloc(r->stages, (r->nstages + 1) * sizeof(*nv))) == NULL) {
		free(n);
		free(s);
		return GFSB_ENOMEM;
	}
	nv[r->nstages].name = n;
	nv[r->nstages].status = status;
	nv[r->nstages].summary = s;
	r->stages = nv;
	r->nstages++;
	raise_status(r, status);
	return GFSB_OK;
}

char *
gfsb_report_subject(const struct gfsb_report *r, char *buf, size_t len)
{
	snprintf(buf, len, "[gfsbackup] %s %s: %s",
	    gfsb_report_status_name(r->status),
	    r->host != NULL ? r->host : "?", r->repo != NULL ? r->repo : "?");
	return buf;
}

int
report_coverage(const struct gfsb_report *r, char *buf, size_t len)
{
	char n[32];
	int64_t d = r->days_since_all_read;

	if (r->packs_overdue > 0) {
		snprintf(buf, len, "%s pack%s never read though their night "
		    "has passed", report_fmt_count(r->packs_overdue, n,
		    sizeof(n)), r->packs_overdue == 1 ? "" : "s");
		return 1;
	}
	if (d < 0) {
		snprintf(buf, len, "%s pack%s never read yet",
		    report_fmt_count(r->packs_never_read, n, sizeof(n)),
		    r->packs_never_read == 1 ? "" : "s");
		return 1;
	}
	if (d == 0 && r->packs_never_read == 0)
		snprintf(buf, len, "every pack read today");
	else
		snprintf(buf, len, "every pack read within the last %lld "
		    "day%s%s", (long long)d + 1, d == 0 ? "" : "s",
		    r->packs_never_read > 0 ? "; new packs wait for their "
		    "night" : "");
	return 0;
}
