/*
 * report_html: the HTML rendering, the part of the mail most operators
 * see.  Mail clients strip most of HTML, so the document uses what they
 * all keep: tables for layout, inline style="" attributes only (no <style>
 * element, no classes, no scripts, no images, no URLs), at most 680 pixels
 * wide.  The pictures are table cells too: the GFS timeline merges each
 * run of unmarked days into one cell (colspan), so its size grows with the
 * number of snapshots rather than of days, and a block without any mark
 * shrinks to one line.  Every string that comes from outside is cleaned
 * and escaped by report_put_clean.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gfsbackup/report.h>

#include "report_internal.h"

/* Days per timeline block: 182 cells of 3 px beside the row labels fit in
 * the 680 px column. */
#define TL_BLOCK 182
#define TL_CELL_PX 3
/* The 30-day bars' full height. */
#define BAR_PX 60

#define C_TEXT "#1f2328"
#define C_MUTED "#57606a"
#define C_LINE "#d0d7de"
#define C_EMPTY "#eceff3"
#define C_STUB "#d0d4d9"
#define C_BAR_SIZE "#2f6fb5"
#define C_BAR_NEW "#2e8b57"

#define ST_H2                                                                  \
	"margin:0 0 8px;padding:0 0 4px;font-size:16px;"                       \
	"border-bottom:1px solid " C_LINE
#define ST_TABLE "border-collapse:collapse;width:100%"
#define ST_KEY                                                                 \
	"padding:2px 12px 2px 0;color:" C_MUTED                                \
	";width:140px;vertical-align:top;white-space:nowrap"
#define ST_VAL "padding:2px 0;vertical-align:top"
#define ST_TH                                                                  \
	"padding:3px 10px 3px 0;text-align:left;color:" C_MUTED                \
	";font-weight:normal;border-bottom:1px solid " C_LINE
#define ST_TD "padding:3px 10px 3px 0;vertical-align:top"
#define ST_NOTE "font-size:12px;color:" C_MUTED ";margin:6px 0"
#define ST_MONO "font-family:Menlo,Consolas,monospace;font-size:13px"

/* Row colours of the timeline: daily, weekly, monthly, yearly. */
static const char *const tl_colour[REPORT_TL_ROWS] = {
    "#4a90d9", "#2e8b57", "#8e44ad", "#c0392b"};

static const char *
status_colour(enum gfsb_report_status s)
{
	switch (s) {
	case GFSB_REPORT_OK:
		return "#1e7e34";
	case GFSB_REPORT_WARNING:
		return "#b36b00";
	case GFSB_REPORT_FAILED:
		return "#b02a37";
	}
	return "#b02a37";
}

static void
esc(struct report_out *o, const char *s)
{
	report_put_clean(o, s, 1);
}

static void
section(struct report_out *o, const char *title)
{
	report_printf(o,
	    "<tr><td style=\"padding:18px 20px 0\">"
	    "<h2 style=\"" ST_H2 "\">%s</h2>\n",
	    title);
}

static void
section_end(struct report_out *o)
{
	report_put(o, "</td></tr>\n");
}

static void
kv_open(struct report_out *o)
{
	report_put(o, "<table role=\"presentation\" cellpadding=\"0\" "
	              "cellspacing=\"0\" style=\"" ST_TABLE "\">\n");
}

/* Opens a key/value row: the caller writes the value and calls kv_end. */
static void
kv(struct report_out *o, const char *k)
{
	report_printf(o,
	    "<tr><td style=\"" ST_KEY "\">%s</td>"
	    "<td style=\"" ST_VAL "\">",
	    k);
}

static void
kv_end(struct report_out *o)
{
	report_put(o, "</td></tr>\n");
}

static void
kv_clean(struct report_out *o, const char *k, const char *v)
{
	kv(o, k);
	esc(o, v);
	kv_end(o);
}

static void
head(struct report_out *o, const struct gfsb_report *r)
{
	char subject[512];

	report_put(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	              "<meta charset=\"utf-8\">\n"
	              "<meta name=\"viewport\" "
	              "content=\"width=device-width, initial-scale=1\">\n"
	              "<title>");
	esc(o, gfsb_report_subject(r, subject, sizeof(subject)));
	report_put(o, "</title>\n</head>\n"
	              "<body style=\"margin:0;padding:0;background:#f2f3f5\">\n"
	              "<table role=\"presentation\" width=\"100%\" "
	              "cellpadding=\"0\" cellspacing=\"0\" "
	              "style=\"background:#f2f3f5\">\n"
	              "<tr><td align=\"center\" style=\"padding:16px 8px\">\n"
	              "<table role=\"presentation\" width=\"100%\" "
	              "cellpadding=\"0\" cellspacing=\"0\" "
	              "style=\"max-width:680px;background:#ffffff;"
	              "border:1px solid " C_LINE ";"
	              "font-family:Arial,Helvetica,sans-serif;font-size:14px;"
	              "line-height:1.4;color:" C_TEXT ";text-align:left\">\n");
}

static void
banner(struct report_out *o, const struct gfsb_report *r)
{
	char t[32];

	report_printf(o,
	    "<tr><td style=\"background:%s;color:#ffffff;"
	    "padding:16px 20px\">\n"
	    "<div style=\"font-size:26px;font-weight:bold;"
	    "letter-spacing:1px\">%s</div>\n"
	    "<div style=\"font-size:15px;margin-top:4px\">",
	    status_colour(r->status), gfsb_report_status_name(r->status));
	esc(o, r->host);
	report_put(o, " &middot; ");
	esc(o, r->repo);
	report_printf(o,
	    "</div>\n<div style=\"font-size:12px;margin-top:2px\">"
	    "report of %s</div>\n</td></tr>\n",
	    report_fmt_time(&r->now, t, sizeof(t)));
}

/* A row of "Needs attention", up to its text: the caller writes the text
 * and closes it with "</td></tr>". */
static void
line_open(struct report_out *o, const char *what, const char *colour,
    const char *bg)
{
	report_printf(o,
	    "<tr><td style=\"padding:4px 8px;background:%s;"
	    "border-left:4px solid %s;color:%s;"
	    "font-weight:bold;vertical-align:top;"
	    "white-space:nowrap\">%s</td>"
	    "<td style=\"padding:4px 8px;background:%s;"
	    "vertical-align:top;overflow-wrap:anywhere;"
	    "word-wrap:break-word;" ST_MONO "\">",
	    bg, colour, colour, what, bg);
}

static void
lines(struct report_out *o, const char *what, const char *colour,
    const char *bg, char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		line_open(o, what, colour, bg);
		esc(o, v[i]);
		report_put(o, "</td></tr>\n");
	}
}

static void
problems(struct report_out *o, const struct gfsb_report *r)
{
	size_t i;

	if (r->ndamage + r->nerrors + r->nwarnings == 0)
		return;
	section(o, "Needs attention");
	report_put(o, "<table role=\"presentation\" cellpadding=\"0\" "
	              "cellspacing=\"0\" style=\"border-collapse:separate;"
	              "border-spacing:0 2px;width:100%\">\n");
	lines(o, "damage", "#b02a37", "#fbeaec", r->damage, r->ndamage);
	if (r->ndamage > 0) {
		/* One row: the advice's lines are for a terminal's width. */
		line_open(o, "to do", "#1f4e79", "#eaf1fb");
		for (i = 0; gfsb_report_damage_advice[i] != NULL; i++) {
			report_put(o, i ? " " : "");
			esc(o, gfsb_report_damage_advice[i]);
		}
		report_put(o, "</td></tr>\n");
	}
	lines(o, "error", "#b02a37", "#fbeaec", r->errors, r->nerrors);
	lines(o, "warning", "#b36b00", "#fdf3e4", r->warnings, r->nwarnings);
	report_put(o, "</table>\n");
	section_end(o);
}

static void
stages(struct report_out *o, const struct gfsb_report *r)
{
	const struct gfsb_report_stage *s;
	size_t i;

	if (r->nstages == 0)
		return;
	section(o, "Stages");
	kv_open(o);
	report_put(o, "<tr><th style=\"" ST_TH "\">stage</th>"
	              "<th style=\"" ST_TH "\">status</th>"
	              "<th style=\"" ST_TH "\">summary</th></tr>\n");
	for (i = 0; i < r->nstages; i++) {
		s = &r->stages[i];
		report_put(
		    o, "<tr><td style=\"" ST_TD ";white-space:nowrap\">");
		esc(o, s->name);
		report_printf(o,
		    "</td><td style=\"" ST_TD ";color:%s;"
		    "font-weight:bold\">%s</td>"
		    "<td style=\"" ST_TD "\">",
		    status_colour(s->status),
		    gfsb_report_status_name(s->status));
		esc(o, s->summary);
		report_put(o, "</td></tr>\n");
	}
	report_put(o, "</table>\n");
	section_end(o);
}

static void
last_backup(struct report_out *o, const struct gfsb_report *r)
{
	char a[64], b[64], c[64], id[sizeof(r->backup_id)];

	section(o, "Last backup");
	if (!r->has_backup) {
		report_put(o, "<p style=\"margin:0\">no snapshot in the "
		              "repository</p>\n");
		section_end(o);
		return;
	}
	memcpy(id, r->backup_id, sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	kv_open(o);
	kv(o, "snapshot");
	report_put(o, "<span style=\"" ST_MONO "\">");
	esc(o, id);
	report_put(o, "</span>");
	kv_end(o);
	if (r->backup_writer[0] != '\0') {
		kv(o, "written by");
		report_put(o, "write-only key ");
		esc(o, r->backup_writer);
		kv_end(o);
	}
	kv(o, "taken");
	report_printf(o, "%s <span style=\"color:" C_MUTED "\">(%s)</span>",
	    report_fmt_time(&r->backup_time, a, sizeof(a)),
	    report_fmt_age(&r->backup_time, &r->now, b, sizeof(b)));
	kv_end(o);
	if (r->backup_seconds >= 0) {
		kv(o, "duration");
		report_put(
		    o, report_fmt_duration(r->backup_seconds, a, sizeof(a)));
		kv_end(o);
	}
	kv(o, "files");
	report_printf(o, "%s (%s new, %s changed)",
	    report_fmt_count(r->files_total, a, sizeof(a)),
	    report_fmt_count(r->files_new, b, sizeof(b)),
	    report_fmt_count(r->files_changed, c, sizeof(c)));
	kv_end(o);
	kv(o, "processed");
	report_put(o, report_fmt_size(r->bytes_total, a, sizeof(a)));
	kv_end(o);
	kv(o, "new data");
	report_printf(o, "%s after dedup, %s stored after compression",
	    report_fmt_size(r->data_added, a, sizeof(a)),
	    report_fmt_size(r->data_stored, b, sizeof(b)));
	kv_end(o);
	kv(o, "unreadable");
	report_printf(o, "%s%s file%s%s",
	    r->backup_warnings > 0 ? "<b style=\"color:#b36b00\">" : "",
	    report_fmt_count(r->backup_warnings, a, sizeof(a)),
	    r->backup_warnings == 1 ? "" : "s",
	    r->backup_warnings > 0 ? "</b>" : "");
	kv_end(o);
	report_put(o, "</table>\n");
	section_end(o);
}

/* The fleet: each host's newest snapshot (when there are several). */
static void
fleet(struct report_out *o, const struct gfsb_report *r)
{
	const struct gfsb_report_host *h;
	char a[64], b[64];
	size_t i;

	if (r->nhosts < 2)
		return;
	section(o, "Fleet");
	report_put(o, "<table role=\"presentation\" cellpadding=\"0\" "
	    "cellspacing=\"0\" style=\"" ST_TABLE "\">\n<tr>"
	    "<th style=\"" ST_TH "\">host</th>"
	    "<th style=\"" ST_TH "\">last backup</th>"
	    "<th style=\"" ST_TH "\">age</th>"
	    "<th style=\"" ST_TH ";text-align:right\">held</th></tr>\n");
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		report_put(o, "<tr><td style=\"" ST_TD "\">");
		esc(o, h->name);
		report_printf(o, "</td><td style=\"" ST_TD "\">%s</td>"
		    "<td style=\"" ST_TD "%s\">%s%s</td>"
		    "<td style=\"" ST_TD ";text-align:right\">%zu</td></tr>\n",
		    report_fmt_time(&h->last, a, sizeof(a)),
		    h->stale ? ";color:#b36b00;font-weight:bold" : "",
		    report_fmt_age(&h->last, &r->now, b, sizeof(b)),
		    h->stale ? " &middot; stopped" : "", h->snapshots);
	}
	report_put(o, "</table>\n");
	section_end(o);
}

/* The roles' table of group g (REPORT_ALL_GROUPS: of every snapshot). */
static void
role_table(struct report_out *o, const struct gfsb_report *r, size_t g)
{
	struct report_role_stat st[REPORT_NROLES];
	char a[64], b[64];
	size_t k, shown = 0, n;

	n = report_role_stats(r, g, st);
	if (g != REPORT_ALL_GROUPS) {
		report_put(o, "<p style=\"margin:6px 0 2px\"><b>");
		esc(o, r->groups[g]);
		report_printf(o, "</b> <span style=\"color:" C_MUTED "\">"
		    "(%zu held)</span></p>\n", n);
	}
	for (k = 0; k < REPORT_NROLES; k++) {
		if (st[k].count == 0)
			continue;
		if (shown++ == 0) {
			report_put(o,
			    "<table role=\"presentation\" "
			    "cellpadding=\"0\" cellspacing=\"0\" "
			    "style=\"" ST_TABLE ";margin:0 0 8px\">\n"
			    "<tr><th style=\"" ST_TH "\">role</th>"
			    "<th style=\"" ST_TH ";text-align:right\">held</th>"
			    "<th style=\"" ST_TH "\">oldest</th>"
			    "<th style=\"" ST_TH "\">newest</th>"
			    "</tr>\n");
		}
		report_printf(o,
		    "<tr><td style=\"" ST_TD "\">%s</td>"
		    "<td style=\"" ST_TD ";text-align:right\">%zu"
		    "</td><td style=\"" ST_TD "\">%s</td>"
		    "<td style=\"" ST_TD "\">%s</td></tr>\n",
		    report_roles[k].label, st[k].count,
		    report_fmt_time(&st[k].oldest, a, sizeof(a)),
		    report_fmt_time(&st[k].newest, b, sizeof(b)));
	}
	if (shown > 0)
		report_put(o, "</table>\n");
}

static void
retention(struct report_out *o, const struct gfsb_report *r)
{
	char a[64], b[64];
	size_t g;

	section(o, "Retention");
	if (r->ngroups > 1) {
		/* The policy applies to each apart: so are they shown. */
		for (g = 0; g < r->ngroups; g++)
			role_table(o, r, g);
	} else {
		role_table(o, r, REPORT_ALL_GROUPS);
	}
	kv_open(o);
	kv(o, "snapshots");
	report_printf(o, "%zu held", r->nsnaps);
	kv_end(o);
	kv_clean(o, "policy",
	    r->policy != NULL ? r->policy : "no retention policy given");
	kv(o, "retention");
	if (r->retention_ran)
		report_printf(o, "removed %s snapshot%s",
		    report_fmt_count(r->snapshots_removed, a, sizeof(a)),
		    r->snapshots_removed == 1 ? "" : "s");
	else
		report_put(o, "not run in this job");
	kv_end(o);
	kv(o, "prune");
	if (r->prune_ran)
		report_printf(o, "freed %s pack%s, %s",
		    report_fmt_count(r->packs_freed, a, sizeof(a)),
		    r->packs_freed == 1 ? "" : "s",
		    report_fmt_size(r->bytes_freed, b, sizeof(b)));
	else
		report_put(o, "not run in this job");
	kv_end(o);
	kv(o, "repository size");
	report_put(o, report_fmt_size(r->repo_size, a, sizeof(a)));
	kv_end(o);
	report_put(o, "</table>\n");
	section_end(o);
}

static void
offsite(struct report_out *o, const struct gfsb_report *r)
{
	char a[64], b[64];

	section(o, "Offsite");
	kv_open(o);
	kv(o, "state");
	switch (r->offsite) {
	case GFSB_OFFSITE_NONE:
		report_put(o, "none configured");
		break;
	case GFSB_OFFSITE_IN_SYNC:
		report_put(o, "<b style=\"color:#1e7e34\">in sync</b>");
		break;
	case GFSB_OFFSITE_BEHIND:
		report_printf(o,
		    "<b style=\"color:#b36b00\">behind</b>: "
		    "%s object%s, %s",
		    report_fmt_count(r->behind_objects, a, sizeof(a)),
		    r->behind_objects == 1 ? "" : "s",
		    report_fmt_size(r->behind_bytes, b, sizeof(b)));
		break;
	case GFSB_OFFSITE_UNKNOWN:
	default:
		report_put(o, "<b style=\"color:#b02a37\">unknown</b>: ");
		esc(o, r->offsite_error != NULL ? r->offsite_error
		                                : "not checked");
		break;
	}
	kv_end(o);
	if (r->offsite != GFSB_OFFSITE_NONE && r->offsite_repo != NULL)
		kv_clean(o, "mirror", r->offsite_repo);
	if (r->offsite != GFSB_OFFSITE_NONE)
		kv_clean(o, "last synced", r->offsite_synced.sec > 0 ?
		    report_fmt_time(&r->offsite_synced, a, sizeof(a)) :
		    "not known (no sync by the daily job yet)");
	report_put(o, "</table>\n");
	section_end(o);
}

static void
verification(struct report_out *o, const struct gfsb_report *r)
{
	char a[64], b[64], cov[200];

	section(o, "Verification");
	if (!r->verify_ran) {
		report_put(
		    o, "<p style=\"margin:0\">not run in this job</p>\n");
		section_end(o);
		return;
	}
	kv_open(o);
	kv(o, "packs read");
	report_printf(o, "%s of %s today",
	    report_fmt_count(r->packs_read, a, sizeof(a)),
	    report_fmt_count(r->packs_total, b, sizeof(b)));
	if (r->packs_total > 0)
		report_printf(o, " (%.1f%%)",
		    100.0 * (double)r->packs_read / (double)r->packs_total);
	kv_end(o);
	kv(o, "bytes read");
	report_put(o, report_fmt_size(r->bytes_read, a, sizeof(a)));
	kv_end(o);
	kv_clean(o, "read mode", r->read_mode != NULL ? r->read_mode : "?");
	kv(o, "coverage");
	/* Amber only for what is late: packs whose night has passed. */
	if (report_coverage(r, cov, sizeof(cov)))
		report_printf(o, "<b style=\"color:#b36b00\">%s</b>", cov);
	else
		report_put(o, cov);
	kv_end(o);
	report_put(o, "</table>\n");
	section_end(o);
}

/* The sample, and what the rate it came back at means for everything. */
static void
drill_projection(struct report_out *o, const struct gfsb_report_drill *d)
{
	struct report_drill_lines l;

	report_drill_lines(d, &l);
	kv(o, "sample");
	report_put(o, l.sample);
	kv_end(o);
	kv(o, "rate");
	report_put(o, l.rate);
	kv_end(o);
	kv(o, "projected");
	report_put(o, l.projected);
	kv_end(o);
	if (l.rto[0] != '\0') {
		kv(o, "RTO");
		if (l.exceeds)
			report_printf(o, "<b style=\"color:#b02a37\">%s</b>",
			    l.rto);
		else
			report_put(o, l.rto);
		kv_end(o);
	}
}

static void
drill_result(struct report_out *o, const struct gfsb_report_drill *d)
{
	char a[64];
	size_t i;

	kv(o, "result");
	if (d->failed == 0) {
		report_put(o, "every file came back intact");
		kv_end(o);
		return;
	}
	report_printf(o,
	    "<b style=\"color:#b02a37\">FAILED: %s file%s did not come "
	    "back intact</b>",
	    report_fmt_count(d->failed, a, sizeof(a)),
	    d->failed == 1 ? "" : "s");
	for (i = 0; i < d->nfailed_files; i++) {
		report_put(
		    o, "<div style=\"" ST_MONO ";overflow-wrap:anywhere\">");
		esc(o, d->failed_files[i]);
		report_put(o, "</div>");
	}
	if (d->failed > d->nfailed_files)
		report_printf(o,
		    "<div style=\"color:" C_MUTED "\">(and %s more)</div>",
		    report_fmt_count(
		        d->failed - d->nfailed_files, a, sizeof(a)));
	kv_end(o);
}

static void
recovery_drill(struct report_out *o, const struct gfsb_report *r)
{
	const struct gfsb_report_drill *d = &r->drill;
	char a[64], b[64], id[sizeof(d->snapshot)];

	section(o, "Recovery drill");
	if (!d->has) {
		report_put(o, "<p style=\"margin:0\">no restore drill "
		              "recorded; <span style=\"" ST_MONO "\">[verify] "
		              "drill = SIZE</span> in the configuration runs "
		              "one on schedule</p>\n");
		section_end(o);
		return;
	}
	memcpy(id, d->snapshot, sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	kv_open(o);
	kv(o, "ran");
	report_printf(o, "%s <span style=\"color:" C_MUTED "\">(%s)</span>",
	    report_fmt_time(&d->when, a, sizeof(a)),
	    report_drill_age(r, b, sizeof(b)));
	kv_end(o);
	kv(o, "snapshot");
	report_put(o, "<span style=\"" ST_MONO "\">");
	esc(o, id);
	report_put(o, "</span>");
	kv_end(o);
	if (d->repo != NULL)
		kv_clean(o, "from", d->repo);
	drill_projection(o, d);
	drill_result(o, d);
	report_put(o, "</table>\n");
	section_end(o);
}

static void
tl_gap_cell(struct report_out *o, size_t n)
{
	if (n == 0)
		return;
	if (n == 1)
		report_put(o, "<td");
	else
		report_printf(o, "<td colspan=\"%zu\"", n);
	report_printf(o,
	    " style=\"width:%zupx;height:10px;background:" C_EMPTY
	    ";border-bottom:2px solid #ffffff\"></td>",
	    n * TL_CELL_PX);
}

/* The newest block ends with a line at today, labelled in the axis. */
#define TL_TODAY_LINE "<td style=\"width:2px;background:" C_TEXT "\"></td>"

/* Under a block's rows: a tick and a name where each month begins. */
static void
tl_axis(struct report_out *o, const struct report_tl *tl, size_t lo,
    size_t hi)
{
	struct report_tl_month mo[16];
	size_t i, n = report_tl_months(tl, lo, hi, mo, 16);

	report_put(o, "<tr><td></td>");
	for (i = 0; i < n; i++)
		report_printf(o, "<td colspan=\"%zu\" style=\"font-size:10px;"
		    "color:" C_MUTED ";white-space:nowrap;overflow:hidden;"
		    "padding:1px 0 0 2px;%s\">%s</td>", mo[i].days,
		    mo[i].starts ? "border-left:1px solid " C_MUTED : "",
		    mo[i].days * TL_CELL_PX >= 8 * strlen(mo[i].label) ?
		    mo[i].label : "");
	if (lo == 0)
		report_put(o, TL_TODAY_LINE "<td style=\"font-size:10px;"
		    "color:" C_TEXT ";padding:1px 0 0 3px\">today</td>");
	report_put(o, "</tr>\n");
}

static void
tl_block(struct report_out *o, const struct report_tl *tl, size_t lo, size_t hi)
{
	char from[16], to[16], day[16];
	size_t k, a, run;

	report_printf(o,
	    "<table role=\"presentation\" cellpadding=\"0\" "
	    "cellspacing=\"0\" style=\"border-collapse:collapse;"
	    "margin:8px 0 0\">\n"
	    "<tr><td colspan=\"%zu\" style=\"font-size:11px;"
	    "color:" C_MUTED ";padding:0 0 2px\">%s &ndash; %s%s"
	    "</td></tr>\n",
	    hi - lo + (lo == 0 ? 4 : 2),
	    report_fmt_day(tl->today - (long)hi, from, sizeof(from)),
	    report_fmt_day(tl->today - (long)lo, to, sizeof(to)),
	    lo == 0 ? " (today)" : "");
	for (k = 0; k < REPORT_TL_ROWS; k++) {
		if (!(tl->rows & (1u << k)))
			continue;
		report_printf(o,
		    "<tr><td style=\"width:58px;font-size:11px;"
		    "color:%s;padding:0 6px 2px 0;"
		    "white-space:nowrap\">%s</td>",
		    tl_colour[k], report_tl_name[k]);
		/* Older left, newer right; unmarked runs are one cell. */
		run = 0;
		for (a = hi + 1; a-- > lo;) {
			if (!(tl->cell[a] & (1u << k))) {
				run++;
				continue;
			}
			tl_gap_cell(o, run);
			run = 0;
			report_printf(o,
			    "<td style=\"width:%dpx;height:10px;"
			    "background:%s;border-bottom:2px "
			    "solid #ffffff\" title=\"%s %s\"></td>",
			    TL_CELL_PX, tl_colour[k], report_tl_name[k],
			    report_fmt_day(
			        tl->today - (long)a, day, sizeof(day)));
		}
		tl_gap_cell(o, run);
		if (lo == 0)
			report_put(o, TL_TODAY_LINE "<td></td>");
		report_put(o, "</tr>\n");
	}
	tl_axis(o, tl, lo, hi);
	report_put(o, "</table>\n");
}

static void
tl_note(struct report_out *o, const char *s)
{
	report_printf(o, "<p style=\"" ST_NOTE "\">%s</p>\n", s);
}

static gfsb_err
timeline(struct report_out *o, const struct gfsb_report *r)
{
	struct report_tl tl;
	size_t k, lo, hi, glo, ghi;
	char gap[128];
	int in_gap = 0;
	gfsb_err e;

	section(o, "GFS timeline");
	if ((e = report_tl_build(r, &tl)) != GFSB_OK)
		return e;
	if (r->nsnaps == 0) {
		report_put(o, "<p style=\"margin:0\">no snapshot held</p>\n");
		goto out;
	}
	if (tl.rows == 0) {
		report_put(o, "<p style=\"margin:0\">no snapshot is kept by a "
		              "daily, weekly, monthly or yearly rule</p>\n");
		goto out;
	}
	tl_note(o, "One cell per day, older left, newer right; a mark is a "
	           "snapshot kept that day by the rule of its row.");
	glo = ghi = 0;
	for (k = 0; report_tl_block(&tl, TL_BLOCK, k, &lo, &hi); k++) {
		if (report_tl_empty(&tl, lo, hi)) {
			if (!in_gap)
				glo = lo;
			ghi = hi;
			in_gap = 1;
			continue;
		}
		if (in_gap)
			tl_note(
			    o, report_tl_gap(&tl, glo, ghi, gap, sizeof(gap)));
		in_gap = 0;
		tl_block(o, &tl, lo, hi);
	}
	if (in_gap)
		tl_note(o, report_tl_gap(&tl, glo, ghi, gap, sizeof(gap)));
out:
	if (tl.not_drawn > 0)
		report_printf(o,
		    "<p style=\"" ST_NOTE "\">%zu snapshot%s not "
		    "drawn: dated after the report or more than "
		    "a century before</p>\n",
		    tl.not_drawn, tl.not_drawn == 1 ? "" : "s");
	section_end(o);
	report_tl_fini(&tl);
	return GFSB_OK;
}

static void
day_label(const struct gfsb_report_day *d, int full, char *buf, size_t len)
{
	time_t tt = (time_t)d->day.sec;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, full ? "%Y-%m-%d" : "%m-%d", &tm) == 0)
		snprintf(buf, len, "?");
}

/* One bar chart of the 30 nights: field 0 repository size, 1 new data. */
static void
bars(struct report_out *o, const struct gfsb_report *r, int field,
    const char *title, const char *colour)
{
	char date[16], a[32], md[8];
	int64_t v, max = 0;
	size_t i, span;
	int h;

	for (i = 0; i < GFSB_REPORT_DAYS; i++) {
		v = field ? r->days[i].new_data : r->days[i].repo_size;
		if (v > max)
			max = v;
	}
	report_printf(o,
	    "<p style=\"" ST_NOTE ";margin:10px 0 4px\">%s "
	    "(highest: %s)</p>\n",
	    title, report_fmt_size((uint64_t)max, a, sizeof(a)));
	report_put(o, "<table role=\"presentation\" cellpadding=\"0\" "
	              "cellspacing=\"0\" style=\"" ST_TABLE
	              ";table-layout:fixed\">\n<tr>");
	for (i = 0; i < GFSB_REPORT_DAYS; i++) {
		v = field ? r->days[i].new_data : r->days[i].repo_size;
		day_label(&r->days[i], 1, date, sizeof(date));
		report_printf(o,
		    "<td style=\"height:%dpx;vertical-align:bottom;"
		    "padding:0 1px\" title=\"%s: ",
		    BAR_PX, date);
		if (v < 0) {
			report_printf(o,
			    "unknown\"><table role=\"presentation\""
			    " cellpadding=\"0\" cellspacing=\"0\" "
			    "width=\"100%%\"><tr><td style=\""
			    "height:3px;background:" C_STUB ";"
			    "font-size:0;line-height:0\"></td>"
			    "</tr></table></td>");
			continue;
		}
		h = max > 0 ? (int)((double)v * BAR_PX / (double)max + 0.5) : 0;
		if (h == 0)
			h = 1; /* a known zero still shows on the baseline */
		report_printf(o,
		    "%s (%lld bytes)\"><table role=\"presentation\""
		    " cellpadding=\"0\" cellspacing=\"0\" "
		    "width=\"100%%\"><tr><td style=\"height:%dpx;"
		    "background:%s;font-size:0;line-height:0\">"
		    "</td></tr></table></td>",
		    report_fmt_size((uint64_t)v, a, sizeof(a)), (long long)v, h,
		    colour);
	}
	report_put(o, "</tr>\n<tr>");
	/* A date every week; the last label is the newest night. */
	for (i = 0; i < GFSB_REPORT_DAYS; i += span) {
		span = GFSB_REPORT_DAYS - i < 7 ? GFSB_REPORT_DAYS - i : 7;
		if (span < 7)
			day_label(
			    &r->days[GFSB_REPORT_DAYS - 1], 0, md, sizeof(md));
		else
			day_label(&r->days[i], 0, md, sizeof(md));
		report_printf(o,
		    "<td colspan=\"%zu\" style=\"font-size:10px;"
		    "color:" C_MUTED ";padding:2px 0 0;"
		    "text-align:%s;border-top:1px solid " C_LINE "\">%s</td>",
		    span, span < 7 ? "right" : "left", md);
	}
	report_put(o, "</tr>\n</table>\n");
}

static void
chart(struct report_out *o, const struct gfsb_report *r)
{
	size_t i;
	int known = 0;

	section(o, "Last 30 nights");
	for (i = 0; i < GFSB_REPORT_DAYS; i++)
		if (r->days[i].repo_size >= 0 || r->days[i].new_data >= 0)
			known = 1;
	if (!known) {
		report_put(o, "<p style=\"margin:0\">no figures for the last "
		              "30 nights</p>\n");
		section_end(o);
		return;
	}
	bars(o, r, 0, "Repository size per night", C_BAR_SIZE);
	bars(o, r, 1, "New data per night (after dedup and compression)",
	    C_BAR_NEW);
	tl_note(o, "A grey stub is a night with no figure.");
	section_end(o);
}

gfsb_err
gfsb_report_render_html(const struct gfsb_report *r, struct gfsb_buf *out)
{
	struct report_out o;
	gfsb_err e;

	report_out_init(&o, out);
	head(&o, r);
	banner(&o, r);
	problems(&o, r);
	stages(&o, r);
	last_backup(&o, r);
	fleet(&o, r);
	retention(&o, r);
	offsite(&o, r);
	verification(&o, r);
	recovery_drill(&o, r);
	if ((e = timeline(&o, r)) != GFSB_OK && o.err == GFSB_OK)
		o.err = e;
	chart(&o, r);
	report_put(&o, "<tr><td style=\"padding:18px 20px;font-size:11px;"
	               "color:" C_MUTED "\">gfsbackup</td></tr>\n"
	               "</table>\n</td></tr></table>\n</body>\n</html>\n");
	return report_out_finish(&o);
}
