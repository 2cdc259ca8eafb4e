/*
 * report_text: the text rendering, for terminals and the text part of the
 * mail.  Plain ASCII framing around the report's strings, at most 80
 * columns for everything the report itself lays out, in the order an
 * operator reads in the morning: the status, what needs attention, then
 * the details and the two pictures (GFS timeline, last 30 nights).  Every
 * string that comes from outside goes through report_put_clean, so a file
 * name cannot break a line or send a terminal escape.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <gfsbackup/report.h>

#include "report_internal.h"

/* Days per line block of the timeline: 60 columns fit beside the labels. */
#define TL_BLOCK 60
/* Width of the 30-day chart's bars. */
#define BAR 30

static void
heading(struct report_out *o, const char *title)
{
	report_printf(o, "\n%s\n", title);
}

/* "  key          " : the start of a key/value line. */
static void
key(struct report_out *o, const char *k)
{
	report_printf(o, "  %-13s", k);
}

static void
clean_line(struct report_out *o, const char *k, const char *v)
{
	key(o, k);
	report_put_clean(o, v, 0);
	report_put(o, "\n");
}

static void
banner(struct report_out *o, const struct gfsb_report *r)
{
	char t[32];

	report_printf(o, "gfsbackup: %s\n", gfsb_report_status_name(r->status));
	clean_line(o, "host", r->host);
	clean_line(o, "repository", r->repo);
	key(o, "report time");
	report_printf(o, "%s\n", report_fmt_time(&r->now, t, sizeof(t)));
}

/* A line of "Needs attention" and its width: text wrapped at spaces. */
#define LINE_INDENT 11
#define LINE_WIDTH 78

/*
 * s, cleaned, from column LINE_INDENT on, wrapped at its spaces before
 * LINE_WIDTH, each continuation indented as the first line: an id or a
 * path is never broken inside (a word wider than the line stands alone).
 */
static void
put_wrapped(struct report_out *o, const char *s)
{
	size_t col = LINE_INDENT, n, w;
	char word[1024];

	for (;;) {
		s += strspn(s, " ");
		if (*s == '\0')
			break;
		n = strcspn(s, " ");
		if (n >= sizeof(word))
			n = sizeof(word) - 1;
		memcpy(word, s, n);
		word[n] = '\0';
		s += n;
		w = report_clean_width(word);
		if (col > LINE_INDENT && col + 1 + w > LINE_WIDTH) {
			report_printf(o, "\n%*s", LINE_INDENT, "");
			col = LINE_INDENT;
		} else if (col > LINE_INDENT) {
			report_put(o, " ");
			col++;
		}
		report_put_clean(o, word, 0);
		col += w;
	}
}

static void
lines(struct report_out *o, const char *what, char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		report_printf(o, "  %-9s", what);
		put_wrapped(o, v[i]);
		report_put(o, "\n");
	}
}

static void
problems(struct report_out *o, const struct gfsb_report *r)
{
	size_t i;

	if (r->ndamage + r->nerrors + r->nwarnings == 0)
		return;
	heading(o, "NEEDS ATTENTION");
	lines(o, "damage", r->damage, r->ndamage);
	for (i = 0; r->ndamage > 0 && gfsb_report_damage_advice[i]; i++)
		report_printf(o, "  %-9s%s\n", i == 0 ? "to do" : "",
		    gfsb_report_damage_advice[i]);
	lines(o, "error", r->errors, r->nerrors);
	lines(o, "warning", r->warnings, r->nwarnings);
}

static void
stages(struct report_out *o, const struct gfsb_report *r)
{
	size_t i, w = 5, nw;

	if (r->nstages == 0)
		return;
	for (i = 0; i < r->nstages; i++)
		if ((nw = report_clean_width(r->stages[i].name)) > w)
			w = nw;
	if (w > 16)
		w = 16;
	heading(o, "STAGES");
	for (i = 0; i < r->nstages; i++) {
		report_put(o, "  ");
		report_put_clean(o, r->stages[i].name, 0);
		nw = report_clean_width(r->stages[i].name);
		report_printf(o, "%*s  %-8s ", (int)(nw < w ? w - nw : 0), "",
		    gfsb_report_status_name(r->stages[i].status));
		report_put_clean(o, r->stages[i].summary, 0);
		report_put(o, "\n");
	}
}

static void
last_backup(struct report_out *o, const struct gfsb_report *r)
{
	char a[64], b[64], c[64], id[sizeof(r->backup_id)];

	heading(o, "LAST BACKUP");
	if (!r->has_backup) {
		report_put(o, "  no snapshot in the repository\n");
		return;
	}
	memcpy(id, r->backup_id, sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	clean_line(o, "snapshot", id);
	if (r->backup_writer[0] != '\0') {
		key(o, "written by");
		report_printf(o, "write-only key %.8s\n", r->backup_writer);
	}
	key(o, "taken");
	report_printf(o, "%s (%s)\n",
	    report_fmt_time(&r->backup_time, a, sizeof(a)),
	    report_fmt_age(&r->backup_time, &r->now, b, sizeof(b)));
	if (r->backup_seconds >= 0) {
		key(o, "duration");
		report_printf(o, "%s\n",
		    report_fmt_duration(r->backup_seconds, a, sizeof(a)));
	}
	key(o, "files");
	report_printf(o, "%s (%s new, %s changed)\n",
	    report_fmt_count(r->files_total, a, sizeof(a)),
	    report_fmt_count(r->files_new, b, sizeof(b)),
	    report_fmt_count(r->files_changed, c, sizeof(c)));
	key(o, "processed");
	report_printf(o, "%s\n", report_fmt_size(r->bytes_total, a, sizeof(a)));
	key(o, "new data");
	report_printf(o, "%s after dedup, %s stored after compression\n",
	    report_fmt_size(r->data_added, a, sizeof(a)),
	    report_fmt_size(r->data_stored, b, sizeof(b)));
	key(o, "unreadable");
	report_printf(o, "%s file%s\n",
	    report_fmt_count(r->backup_warnings, a, sizeof(a)),
	    r->backup_warnings == 1 ? "" : "s");
}

/* The fleet: each host's newest snapshot (when there are several). */
static void
fleet(struct report_out *o, const struct gfsb_report *r)
{
	const struct gfsb_report_host *h;
	char a[64], b[64];
	size_t i, w = 4;

	if (r->nhosts < 2)
		return;
	heading(o, "FLEET");
	for (i = 0; i < r->nhosts; i++)
		if (report_clean_width(r->hosts[i].name) > w)
			w = report_clean_width(r->hosts[i].name);
	report_printf(o, "  %-*s  %-16s  %-18s  %s\n", (int)w, "host",
	    "last backup", "age", "held");
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		report_put(o, "  ");
		report_put_clean(o, h->name, 0);
		report_printf(o, "%*s  %-16s  %-18s  %-4zu%s\n",
		    (int)(w - report_clean_width(h->name)), "",
		    report_fmt_time(&h->last, a, sizeof(a)),
		    report_fmt_age(&h->last, &r->now, b, sizeof(b)),
		    h->snapshots, h->stale ? "  STOPPED" : "");
	}
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
		key(o, "group");
		report_put_clean(o, r->groups[g], 0);
		report_printf(o, " (%zu held)\n", n);
	}
	for (k = 0; k < REPORT_NROLES; k++) {
		if (st[k].count == 0)
			continue;
		if (shown++ == 0)
			report_printf(o, "  %-21s %6s  %-16s  %s\n", "role",
			    "held", "oldest", "newest");
		report_printf(o, "  %-21s %6zu  %-16s  %s\n",
		    report_roles[k].label, st[k].count,
		    report_fmt_time(&st[k].oldest, a, sizeof(a)),
		    report_fmt_time(&st[k].newest, b, sizeof(b)));
	}
}

static void
retention(struct report_out *o, const struct gfsb_report *r)
{
	char a[64], b[64];
	size_t g;

	heading(o, "RETENTION");
	if (r->ngroups > 1) {
		/* The policy applies to each apart: so are they shown. */
		for (g = 0; g < r->ngroups; g++)
			role_table(o, r, g);
	} else {
		role_table(o, r, REPORT_ALL_GROUPS);
	}
	key(o, "snapshots");
	report_printf(o, "%zu held\n", r->nsnaps);
	clean_line(o, "policy",
	    r->policy != NULL ? r->policy : "no retention policy given");
	key(o, "retention");
	if (r->retention_ran)
		report_printf(o, "removed %s snapshot%s\n",
		    report_fmt_count(r->snapshots_removed, a, sizeof(a)),
		    r->snapshots_removed == 1 ? "" : "s");
	else
		report_put(o, "not run in this job\n");
	key(o, "prune");
	if (r->prune_ran)
		report_printf(o, "freed %s pack%s, %s\n",
		    report_fmt_count(r->packs_freed, a, sizeof(a)),
		    r->packs_freed == 1 ? "" : "s",
		    report_fmt_size(r->bytes_freed, b, sizeof(b)));
	else
		report_put(o, "not run in this job\n");
	key(o, "repo size");
	report_printf(o, "%s\n", report_fmt_size(r->repo_size, a, sizeof(a)));
}

static void
offsite(struct report_out *o, const struct gfsb_report *r)
{
	char a[64], b[64];

	heading(o, "OFFSITE");
	key(o, "state");
	switch (r->offsite) {
	case GFSB_OFFSITE_NONE:
		report_put(o, "none configured\n");
		return;
	case GFSB_OFFSITE_IN_SYNC:
		report_put(o, "in sync\n");
		break;
	case GFSB_OFFSITE_BEHIND:
		report_printf(o, "behind: %s object%s, %s\n",
		    report_fmt_count(r->behind_objects, a, sizeof(a)),
		    r->behind_objects == 1 ? "" : "s",
		    report_fmt_size(r->behind_bytes, b, sizeof(b)));
		break;
	case GFSB_OFFSITE_UNKNOWN:
	default:
		report_put(o, "unknown: ");
		report_put_clean(o,
		    r->offsite_error != NULL ? r->offsite_error : "not checked",
		    0);
		report_put(o, "\n");
		break;
	}
	if (r->offsite_repo != NULL)
		clean_line(o, "mirror", r->offsite_repo);
	key(o, "last synced");
	report_printf(o, "%s\n", r->offsite_synced.sec > 0 ?
	    report_fmt_time(&r->offsite_synced, a, sizeof(a)) :
	    "not known (no sync by the daily job yet)");
}

static void
verification(struct report_out *o, const struct gfsb_report *r)
{
	char a[64], b[64], cov[200];

	heading(o, "VERIFICATION");
	if (!r->verify_ran) {
		report_put(o, "  not run in this job\n");
		return;
	}
	key(o, "packs read");
	report_printf(o, "%s of %s today",
	    report_fmt_count(r->packs_read, a, sizeof(a)),
	    report_fmt_count(r->packs_total, b, sizeof(b)));
	if (r->packs_total > 0)
		report_printf(o, " (%.1f%%)",
		    100.0 * (double)r->packs_read / (double)r->packs_total);
	report_put(o, "\n");
	key(o, "bytes read");
	report_printf(o, "%s\n", report_fmt_size(r->bytes_read, a, sizeof(a)));
	clean_line(o, "read mode", r->read_mode != NULL ? r->read_mode : "?");
	key(o, "coverage");
	report_coverage(r, cov, sizeof(cov));
	report_printf(o, "%s\n", cov);
}

/* The sample, and what the rate it came back at means for everything. */
static void
drill_projection(struct report_out *o, const struct gfsb_report_drill *d)
{
	struct report_drill_lines l;

	report_drill_lines(d, &l);
	key(o, "sample");
	report_printf(o, "%s\n", l.sample);
	key(o, "rate");
	report_printf(o, "%s\n", l.rate);
	key(o, "projected");
	report_printf(o, "%s\n", l.projected);
	if (l.rto[0] != '\0') {
		key(o, "RTO");
		report_printf(o, "%s\n", l.rto);
	}
}

static void
drill_result(struct report_out *o, const struct gfsb_report_drill *d)
{
	char a[64];
	size_t i;

	key(o, "result");
	if (d->failed == 0) {
		report_put(o, "every file came back intact\n");
		return;
	}
	report_printf(o, "FAILED: %s file%s did not come back intact\n",
	    report_fmt_count(d->failed, a, sizeof(a)),
	    d->failed == 1 ? "" : "s");
	for (i = 0; i < d->nfailed_files; i++) {
		key(o, "");
		report_put_clean(o, d->failed_files[i], 0);
		report_put(o, "\n");
	}
	if (d->failed > d->nfailed_files) {
		key(o, "");
		report_printf(o, "(and %s more)\n",
		    report_fmt_count(
		        d->failed - d->nfailed_files, a, sizeof(a)));
	}
}

static void
recovery_drill(struct report_out *o, const struct gfsb_report *r)
{
	const struct gfsb_report_drill *d = &r->drill;
	char a[64], b[64], id[sizeof(d->snapshot)];

	heading(o, "RECOVERY DRILL");
	if (!d->has) {
		report_put(o, "  no restore drill recorded; "
		              "`[verify] drill = SIZE` runs one on schedule\n");
		return;
	}
	key(o, "ran");
	report_printf(o, "%s (%s)\n", report_fmt_time(&d->when, a, sizeof(a)),
	    report_drill_age(r, b, sizeof(b)));
	memcpy(id, d->snapshot, sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	clean_line(o, "snapshot", id);
	if (d->repo != NULL)
		clean_line(o, "from", d->repo);
	drill_projection(o, d);
	drill_result(o, d);
}

/* Under a block's rows: '|' where each month begins, and its name. */
static void
tl_axis(struct report_out *o, const struct report_tl *tl, size_t lo,
    size_t hi)
{
	struct report_tl_month mo[16];
	char axis[TL_BLOCK + 1];
	size_t i, col = 0, w, n = report_tl_months(tl, lo, hi, mo, 16);

	memset(axis, ' ', sizeof(axis));
	for (i = 0; i < n && col < TL_BLOCK; col += mo[i].days, i++) {
		w = strlen(mo[i].label);
		if (mo[i].starts)
			axis[col] = '|';
		if (w + 1 <= mo[i].days && col + 1 + w <= TL_BLOCK)
			memcpy(axis + col + 1, mo[i].label, w);
	}
	while (col > 0 && axis[col - 1] == ' ')
		col--;
	axis[col < TL_BLOCK ? col : TL_BLOCK] = '\0';
	report_printf(o, "    %-8s %s\n", "", axis);
}

static void
tl_block(struct report_out *o, const struct report_tl *tl, size_t lo, size_t hi)
{
	char from[16], to[16], row[TL_BLOCK + 1];
	size_t k, a, n;

	report_printf(o, "  %s to %s%s\n",
	    report_fmt_day(tl->today - (long)hi, from, sizeof(from)),
	    report_fmt_day(tl->today - (long)lo, to, sizeof(to)),
	    lo == 0 ? " (today)" : "");
	for (k = 0; k < REPORT_TL_ROWS; k++) {
		if (!(tl->rows & (1u << k)))
			continue;
		/* Older left, newer right: column 0 is age hi. */
		n = 0;
		for (a = hi + 1; a-- > lo;)
			row[n++] = (tl->cell[a] & (1u << k)) ? '#' : '.';
		row[n] = '\0';
		report_printf(o, "    %-8s %s\n", report_tl_name[k], row);
	}
	tl_axis(o, tl, lo, hi);
}

static gfsb_err
timeline(struct report_out *o, const struct gfsb_report *r)
{
	struct report_tl tl;
	size_t k, lo, hi, glo, ghi;
	char gap[128];
	int in_gap = 0;
	gfsb_err e;

	heading(o, "GFS TIMELINE");
	if ((e = report_tl_build(r, &tl)) != GFSB_OK)
		return e;
	if (r->nsnaps == 0) {
		report_put(o, "  no snapshot held\n");
		goto out;
	}
	if (tl.rows == 0) {
		report_put(o, "  no snapshot is kept by a daily, weekly, "
		              "monthly or yearly rule\n");
		goto out;
	}
	report_put(o, "  one column per day, older left, newer right; "
	              "# = a snapshot kept that day\n");
	glo = ghi = 0;
	/* Newest block first; a run of empty blocks becomes one line. */
	for (k = 0; report_tl_block(&tl, TL_BLOCK, k, &lo, &hi); k++) {
		if (report_tl_empty(&tl, lo, hi)) {
			if (!in_gap)
				glo = lo;
			ghi = hi;
			in_gap = 1;
			continue;
		}
		if (in_gap)
			report_printf(o, "  %s\n",
			    report_tl_gap(&tl, glo, ghi, gap, sizeof(gap)));
		in_gap = 0;
		tl_block(o, &tl, lo, hi);
	}
	if (in_gap)
		report_printf(o, "  %s\n",
		    report_tl_gap(&tl, glo, ghi, gap, sizeof(gap)));
out:
	if (tl.not_drawn > 0)
		report_printf(o,
		    "  %zu snapshot%s not drawn: dated after the "
		    "report or more than a century before\n",
		    tl.not_drawn, tl.not_drawn == 1 ? "" : "s");
	report_tl_fini(&tl);
	return GFSB_OK;
}

/* Round v * BAR / max, at least one column for anything above zero. */
static size_t
columns(int64_t v, int64_t max)
{
	size_t n;

	if (v <= 0 || max <= 0)
		return 0;
	n = (size_t)((double)v * BAR / (double)max + 0.5);
	if (n > BAR)
		n = BAR;
	return n > 0 ? n : 1;
}

/*
 * One line per night.  The bar is the repository size, and its last
 * columns, drawn '+', what that night added: one stacked bar says both
 * how big the repository is and how fast it grows, in 80 columns.
 */
static void
chart(struct report_out *o, const struct gfsb_report *r)
{
	const struct gfsb_report_day *d;
	char bar[BAR + 1], size[32], add[40], nd[32], md[8];
	int64_t max = 0;
	size_t i, n, k;
	int known = 0;
	struct tm tm;
	time_t tt;

	heading(o, "LAST 30 NIGHTS");
	for (i = 0; i < GFSB_REPORT_DAYS; i++) {
		d = &r->days[i];
		if (d->repo_size >= 0 || d->new_data >= 0)
			known = 1;
		if (d->repo_size > max)
			max = d->repo_size;
	}
	if (!known) {
		report_put(o, "  no figures for the last 30 nights\n");
		return;
	}
	report_printf(o, "  %-5s  %-*s  %10s  %s\n", "night", BAR,
	    "repository size (+ new)", "", "new data");
	for (i = 0; i < GFSB_REPORT_DAYS; i++) {
		d = &r->days[i];
		tt = (time_t)d->day.sec;
		if (localtime_r(&tt, &tm) == NULL ||
		    strftime(md, sizeof(md), "%m-%d", &tm) == 0)
			snprintf(md, sizeof(md), "?");
		if (d->repo_size < 0) {
			snprintf(bar, sizeof(bar), "?");
			snprintf(size, sizeof(size), "?");
		} else {
			n = columns(d->repo_size, max);
			k = columns(d->new_data, max);
			if (k > n)
				k = n;
			memset(bar, '#', n - k);
			memset(bar + (n - k), '+', k);
			bar[n] = '\0';
			report_fmt_size(
			    (uint64_t)d->repo_size, size, sizeof(size));
		}
		if (d->new_data < 0)
			snprintf(add, sizeof(add), "?");
		else
			snprintf(add, sizeof(add), "+%s",
			    report_fmt_size(
			        (uint64_t)d->new_data, nd, sizeof(nd)));
		report_printf(
		    o, "  %-5s  %-*s  %10s  %s\n", md, BAR, bar, size, add);
	}
}

gfsb_err
gfsb_report_render_text(const struct gfsb_report *r, struct gfsb_buf *out)
{
	struct report_out o;
	gfsb_err e;

	report_out_init(&o, out);
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
	return report_out_finish(&o);
}
