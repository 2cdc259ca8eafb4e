/*
 * report facts: a verification's outcome as the morning report shows it.
 *
 * Both programs that make a report, `verify --report` and the daily job,
 * put a verification in it through these, so that the two reports say
 * the same about the same night.  The daily job fills its report stage by
 * stage, verification before the repository's facts (the report time
 * among them), so nothing here reads a fact another call fills: the night
 * a verification reports on is an argument, never rep->now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

gfsb_err
gfsb_ops_report_verify_problems(struct gfsb_report *rep,
    const struct gfsb_verify_result *res, const char *prefix)
{
	size_t i;
	gfsb_err e = GFSB_OK;

	for (i = 0; e == GFSB_OK && i < res->ndamage; i++)
		e = gfsb_report_add_damage(rep, "%s%s", prefix,
		    res->damage[i].why);
	for (i = 0; e == GFSB_OK && i < res->nbroken; i++)
		e = gfsb_report_add_damage(rep, "%ssnapshot %.8s %s: %s",
		    prefix, res->broken[i].snapshot, res->broken[i].path,
		    res->broken[i].why);
	if (e == GFSB_OK && res->broken_total > res->nbroken)
		e = gfsb_report_add_damage(rep, "%s... and %llu more broken "
		    "files", prefix, (unsigned long long)(res->broken_total -
		    res->nbroken));
	for (i = 0; e == GFSB_OK && i < res->ntamper; i++)
		e = gfsb_report_add_error(rep, "%shistory changed: %s", prefix,
		    res->tamper[i]);
	for (i = 0; e == GFSB_OK && i < res->nwarnings; i++)
		e = gfsb_report_add_warning(rep, "%s%s", prefix,
		    res->warnings[i]);
	return e;
}

/*
 * The chart's nights, oldest first, the newest being now's day: local
 * midnights, stepping by calendar day (a night around a DST change is one
 * like any other), each with the history's figures for its day, if the
 * history has that day.  Days are counted as the state file counts them.
 */
static void
fill_days(struct gfsb_report *rep, const struct gfsb_verify_result *res,
    const struct gfsb_time *now)
{
	struct gfsb_report_day *d;
	int64_t today = gfsb_ops_verify_day(now), day;
	size_t i, k, back;
	time_t tt;
	struct tm tm;

	for (i = 0; i < GFSB_REPORT_DAYS; i++) {
		d = &rep->days[i];
		back = GFSB_REPORT_DAYS - 1 - i;
		day = today - (int64_t)back;
		tt = (time_t)now->sec;
		localtime_r(&tt, &tm);
		tm.tm_mday -= (int)back;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		d->day.sec = (int64_t)mktime(&tm);
		d->day.nsec = 0;
		d->repo_size = -1;
		d->new_data = -1;
		for (k = 0; k < res->nnights; k++)
			if (res->nights[k].day == day) {
				d->repo_size = (int64_t)res->nights[k].repo_size;
				d->new_data = (int64_t)res->nights[k].new_data;
			}
	}
}

gfsb_err
gfsb_ops_report_verify(struct gfsb_report *rep,
    const struct gfsb_verify_result *res, const struct gfsb_time *now)
{
	gfsb_err e;

	rep->verify_ran = 1;
	rep->packs_total = res->packs;
	rep->packs_read = res->packs_read;
	rep->bytes_read = res->bytes_read;
	rep->repo_size = res->repo_bytes;
	rep->days_since_all_read = res->have_state ?
	    res->days_since_all_read : -1;
	rep->packs_never_read = res->never_read;
	rep->packs_overdue = res->overdue;
	free(rep->read_mode);
	if ((rep->read_mode = strdup(res->mode)) == NULL)
		return GFSB_ENOMEM;
	/* A night the verification did not run leaves packs unread. */
	if (res->overdue > 0 && gfsb_report_add_warning(rep, "%llu pack%s "
	    "never read though their verification night has passed (a night "
	    "missed?)", (unsigned long long)res->overdue, res->overdue == 1 ?
	    "" : "s") != GFSB_OK)
		return GFSB_ENOMEM;
	if ((e = gfsb_ops_report_verify_problems(rep, res, "")) != GFSB_OK)
		return e;
	fill_days(rep, res, now);
	return GFSB_OK;
}

enum gfsb_report_status
gfsb_ops_report_verify_stage(const struct gfsb_verify_result *res,
    char *summary, size_t len)
{
	int clean = res->ndamage == 0 && res->broken_total == 0;

	/* The mode may hold a colon ("rotate/7: today's slice is 3 of
	 * 7"): a semicolon keeps the two parts apart. */
	snprintf(summary, len, "%s; %llu of %llu packs read, %s%s", res->mode,
	    (unsigned long long)res->packs_read,
	    (unsigned long long)res->packs, clean ? "no damage" :
	    "DAMAGE FOUND", res->ntamper > 0 ? "; HISTORY CHANGED" : "");
	if (!clean || res->ntamper > 0)
		return GFSB_REPORT_FAILED;
	return res->nwarnings > 0 ? GFSB_REPORT_WARNING : GFSB_REPORT_OK;
}

void
gfsb_ops_io_line(const char *what, const struct gfsb_backend_io *io,
    char *buf, size_t len)
{
	char in[32], out[32];
	int n;

	gfsb_size_format(io->bytes_in, in, sizeof(in));
	gfsb_size_format(io->bytes_out, out, sizeof(out));
	n = snprintf(buf, len, "%s: %llu requests, %s received, %s sent", what,
	    (unsigned long long)io->requests, in, out);
	if (n < 0 || (size_t)n >= len)
		return;
	if (io->connections > 0 && io->seconds > 0)
		snprintf(buf + n, len - (size_t)n, "; %u connections busy "
		    "%.0f%% of %.1f s", io->connections, 100.0 * io->busy /
		    (io->connections * io->seconds), io->seconds);
	else
		snprintf(buf + n, len - (size_t)n, "; %.1f s in its calls",
		    io->busy);
}

void
gfsb_ops_backend_io_since(struct gfsb_backend *be,
    const struct gfsb_backend_io *io0, struct gfsb_backend_io *out)
{
	gfsb_backend_io_get(be, out);
	out->requests -= io0->requests;
	out->bytes_in -= io0->bytes_in;
	out->bytes_out -= io0->bytes_out;
	out->busy -= io0->busy;
	out->seconds -= io0->seconds;
}
