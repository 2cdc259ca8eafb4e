/*
 * report_timeline: what the text and HTML renderings share: the GFS
 * timeline (which role kept a snapshot on which local day), the retention
 * counts, cleaning of strings that come from outside, and the formats of
 * times, ages, durations and sizes, so that both renderings state the same
 * facts in the same words.
 *
 * Days are local calendar days numbered from 1970-01-01: a snapshot's day
 * comes from its local date, so a 23- or 25-hour day around a DST change
 * is still one day and no arithmetic ever adds 86400 seconds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/report.h>

#include "report_internal.h"

const struct report_role report_roles[REPORT_NROLES] = {
    {GFSB_ROLE_DAILY, "daily", "daily (son)"},
    {GFSB_ROLE_WEEKLY, "weekly", "weekly (father)"},
    {GFSB_ROLE_MONTHLY, "monthly", "monthly (grandfather)"},
    {GFSB_ROLE_YEARLY, "yearly", "yearly"},
    {GFSB_ROLE_LAST, "last", "last"},
    {GFSB_ROLE_HOURLY, "hourly", "hourly"},
    {GFSB_ROLE_WITHIN, "within", "within"},
    {GFSB_ROLE_TAG, "tag", "tag"},
};

const unsigned report_tl_role[REPORT_TL_ROWS] = {
    GFSB_ROLE_DAILY, GFSB_ROLE_WEEKLY, GFSB_ROLE_MONTHLY, GFSB_ROLE_YEARLY};

const char *const report_tl_name[REPORT_TL_ROWS] = {
    "daily", "weekly", "monthly", "yearly"};

/* ---- the writer ---- */

void
report_out_init(struct report_out *o, struct gfsb_buf *b)
{
	o->b = b;
	o->start = b->len;
	o->err = GFSB_OK;
}

gfsb_err
report_out_finish(struct report_out *o)
{
	if (o->err == GFSB_OK)
		o->err = gfsb_buf_reserve(o->b, 1);
	if (o->err != GFSB_OK) {
		o->b->len = o->start;
		return o->err;
	}
	o->b->data[o->b->len] = '\0';
	return GFSB_OK;
}

void
report_putn(struct report_out *o, const char *s, size_t n)
{
	if (o->err == GFSB_OK)
		o->err = gfsb_buf_append(o->b, s, n);
}

void
report_put(struct report_out *o, const char *s)
{
	report_putn(o, s, strlen(s));
}

void
report_printf(struct report_out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (o->err != GFSB_OK)
		return;
	/* Most pieces are short: try with what is reserved, then retry
	 * with exactly enough. */
	if ((o->err = gfsb_buf_reserve(o->b, 128)) != GFSB_OK)
		return;
	room = o->b->cap - o->b->len;
	va_start(ap, fmt);
	n = vsnprintf((char *)o->b->data + o->b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->err = GFSB_EINVAL;
		return;
	}
	if ((size_t)n >= room) {
		if ((o->err = gfsb_buf_reserve(o->b, (size_t)n + 1)) != GFSB_OK)
			return;
		va_start(ap, fmt);
		n = vsnprintf(
		    (char *)o->b->data + o->b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->err = GFSB_EINVAL;
			return;
		}
	}
	o->b->len += (size_t)n;
}

/*
 * The length of the valid UTF-8 character at p that may be shown as is, or
 * 0: a C0 or C1 control (U+009B is CSI to some terminals), DEL, an overlong
 * form, a surrogate, or a truncated or stray sequence.  Reads no further
 * than a NUL, which is never a continuation byte.
 */
static size_t
shown_len(const unsigned char *p)
{
	unsigned c = p[0];
	unsigned long cp;
	size_t n, i;

	if (c < 0x80)
		return (c < 0x20 || c == 0x7f) ? 0 : 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

void
report_put_clean(struct report_out *o, const char *s, int html)
{
	const unsigned char *p, *run;
	const char *esc;
	size_t n;

	if (s == NULL) {
		report_put(o, "?");
		return;
	}
	p = run = (const unsigned char *)s;
	while (*p != '\0') {
		esc = NULL;
		if (html) {
			switch (*p) {
			case '&':
				esc = "&amp;";
				break;
			case '<':
				esc = "&lt;";
				break;
			case '>':
				esc = "&gt;";
				break;
			case '"':
				esc = "&quot;";
				break;
			case '\'':
				esc = "&#39;";
				break;
			}
		}
		if (esc == NULL && (n = shown_len(p)) > 0) {
			p += n;
			continue;
		}
		report_putn(o, (const char *)run, (size_t)(p - run));
		report_put(o, esc != NULL ? esc : "?");
		p++;
		run = p;
	}
	report_putn(o, (const char *)run, (size_t)(p - run));
}

size_t
report_clean_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0, n;

	if (s == NULL)
		return 1;
	while (*p != '\0') {
		n = shown_len(p);
		p += n > 0 ? n : 1;
		w++;
	}
	return w;
}

/* ---- formats ---- */

char *
report_fmt_time(const struct gfsb_time *t, char *buf, size_t len)
{
	time_t tt = (time_t)t->sec;
	char full[32];
	struct tm tm;

	/* A forged time beyond what the C library can convert. */
	if (localtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "?");
		return buf;
	}
	/* Minutes are precise enough for a morning read. */
	gfsb_time_format_local(t, full, sizeof(full));
	full[16] = '\0';
	snprintf(buf, len, "%s", full);
	return buf;
}

char *
report_fmt_age(const struct gfsb_time *then, const struct gfsb_time *now,
    char *buf, size_t len)
{
	int64_t d = now->sec - then->sec;

	if (d < 0) {
		/* A clock error, worth seeing: say it rather than hide it. */
		snprintf(buf, len, "%lld min after the report time",
		    (long long)((-d + 59) / 60));
	} else if (d < 60) {
		snprintf(buf, len, "less than a minute ago");
	} else if (d < 3600) {
		snprintf(buf, len, "%lld min ago", (long long)(d / 60));
	} else if (d < 2 * 86400) {
		/* A nightly job: "31 h" says more than "1 day". */
		snprintf(buf, len, "%lld h %lld min ago", (long long)(d / 3600),
		    (long long)(d % 3600 / 60));
	} else {
		snprintf(buf, len, "%lld days ago", (long long)(d / 86400));
	}
	return buf;
}

char *
report_fmt_duration(double seconds, char *buf, size_t len)
{
	long long s;

	if (!(seconds >= 0)) {
		snprintf(buf, len, "unknown");
	} else if (seconds < 10) {
		snprintf(buf, len, "%.1f s", seconds);
	} else if (seconds < 3600) {
		s = (long long)(seconds + 0.5);
		if (s < 60)
			snprintf(buf, len, "%lld s", s);
		else
			snprintf(buf, len, "%lld min %02lld s", s / 60, s % 60);
	} else if (seconds < 1e9) {
		s = (long long)(seconds / 60 + 0.5);
		snprintf(buf, len, "%lld h %02lld min", s / 60, s % 60);
	} else {
		snprintf(buf, len, "%.0f h", seconds / 3600);
	}
	return buf;
}

char *
report_fmt_size(uint64_t n, char *buf, size_t len)
{
	return gfsb_size_format(n, buf, len);
}

char *
report_fmt_count(uint64_t n, char *buf, size_t len)
{
	char digits[32];
	size_t nd, i, o = 0;

	/* 1,234,567: counts of files are read at a glance. */
	nd = (size_t)snprintf(
	    digits, sizeof(digits), "%llu", (unsigned long long)n);
	for (i = 0; i < nd && o + 1 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0 && o + 2 < len)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	if (len > 0)
		buf[o] = '\0';
	return buf;
}

size_t
report_role_stats(const struct gfsb_report *r, size_t g,
    struct report_role_stat st[REPORT_NROLES])
{
	const struct gfsb_report_snap *s;
	size_t i, k, n = 0;

	memset(st, 0, REPORT_NROLES * sizeof(st[0]));
	for (i = 0; i < r->nsnaps; i++) {
		s = &r->snaps[i];
		if (g != REPORT_ALL_GROUPS && s->group != g)
			continue;
		n++;
		for (k = 0; k < REPORT_NROLES; k++) {
			if (!(s->roles & report_roles[k].bit))
				continue;
			if (st[k].count == 0 ||
			    gfsb_time_cmp(&s->time, &st[k].oldest) < 0)
				st[k].oldest = s->time;
			if (st[k].count == 0 ||
			    gfsb_time_cmp(&s->time, &st[k].newest) > 0)
				st[k].newest = s->time;
			st[k].count++;
		}
	}
	return n;
}

/* ---- days ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long
days_from_civil(long y, unsigned m, unsigned d)
{
	unsigned yoe, doy, doe, mp;
	long era;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	mp = m > 2 ? m - 3 : m + 9;
	doy = (153 * mp + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static void
civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	unsigned doe, yoe, doy, mp;
	long era;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long)yoe + era * 400 + (*m <= 2);
}

long
report_day_of(const struct gfsb_time *t)
{
	time_t tt = (time_t)t->sec;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return days_from_civil((long)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
	    (unsigned)tm.tm_mday);
}

char *
report_fmt_day(long day, char *buf, size_t len)
{
	unsigned m, d;
	long y;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, len, "%04ld-%02u-%02u", y, m, d);
	return buf;
}

/* ---- the timeline ---- */

size_t
report_tl_months(const struct report_tl *tl, size_t lo, size_t hi,
    struct report_tl_month *out, size_t max)
{
	static const char *const name[12] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct report_tl_month *cur = NULL;
	unsigned m, d, prev_m = 0;
	size_t a, n = 0;
	long y;

	for (a = hi + 1; a-- > lo;) {
		civil_from_days(tl->today - (long)a, &y, &m, &d);
		if (cur == NULL || m != prev_m) {
			if (n == max)
				break;
			cur = &out[n++];
			cur->days = 0;
			cur->starts = d == 1;
			if (m == 1)
				snprintf(cur->label, sizeof(cur->label),
				    "Jan %ld", y);
			else
				snprintf(cur->label, sizeof(cur->label), "%s",
				    name[m - 1]);
			prev_m = m;
		}
		cur->days++;
	}
	return n;
}

/* The age in days of snapshot time t on the timeline, or -1 if it is not
 * drawn (after the report's day, or more than a century before). */
static long
age_of(const struct report_tl *tl, const struct gfsb_time *t)
{
	long age = tl->today - report_day_of(t);

	if (age < 0 || age >= REPORT_TL_MAX_DAYS)
		return -1;
	return age;
}

gfsb_err
report_tl_build(const struct gfsb_report *r, struct report_tl *tl)
{
	const struct gfsb_report_snap *s;
	size_t i, k;
	long age;

	memset(tl, 0, sizeof(*tl));
	tl->today = report_day_of(&r->now);
	for (i = 0; i < r->nsnaps; i++) {
		if ((age = age_of(tl, &r->snaps[i].time)) < 0)
			tl->not_drawn++;
		else if ((size_t)age + 1 > tl->ndays)
			tl->ndays = (size_t)age + 1;
	}
	if (tl->ndays == 0)
		return GFSB_OK;
	if ((tl->cell = calloc(tl->ndays, 1)) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < r->nsnaps; i++) {
		s = &r->snaps[i];
		if ((age = age_of(tl, &s->time)) < 0)
			continue;
		for (k = 0; k < REPORT_TL_ROWS; k++) {
			if (!(s->roles & report_tl_role[k]))
				continue;
			/* Two snapshots of a role on one day make one mark. */
			if (!(tl->cell[age] & (1u << k)))
				tl->marks[k]++;
			tl->cell[age] |= (uint8_t)(1u << k);
			tl->rows |= 1u << k;
		}
		tl->cell[age] |= REPORT_TL_ANY;
	}
	return GFSB_OK;
}

void
report_tl_fini(struct report_tl *tl)
{
	free(tl->cell);
	memset(tl, 0, sizeof(*tl));
}

int
report_tl_block(
    const struct report_tl *tl, size_t size, size_t k, size_t *lo, size_t *hi)
{
	if (size == 0 || k >= (tl->ndays + size - 1) / size)
		return 0;
	*lo = k * size;
	*hi = *lo + size - 1;
	if (*hi >= tl->ndays)
		*hi = tl->ndays - 1;
	return 1;
}

int
report_tl_empty(const struct report_tl *tl, size_t lo, size_t hi)
{
	size_t a;

	for (a = lo; a <= hi; a++)
		if ((tl->cell[a] & ~REPORT_TL_ANY) != 0)
			return 0;
	return 1;
}

char *
report_tl_gap(
    const struct report_tl *tl, size_t lo, size_t hi, char *buf, size_t len)
{
	char from[16], to[16];
	int other = 0;
	size_t a;

	for (a = lo; a <= hi; a++)
		if (tl->cell[a] & REPORT_TL_ANY)
			other = 1;
	report_fmt_day(tl->today - (long)hi, from, sizeof(from));
	report_fmt_day(tl->today - (long)lo, to, sizeof(to));
	/* Only snapshots kept by other rules (last, within, tag) there. */
	snprintf(buf, len, "%s from %s to %s",
	    other ? "no daily, weekly, monthly or yearly snapshot"
	          : "no snapshot kept",
	    from, to);
	return buf;
}

char *
report_drill_age(const struct gfsb_report *r, char *buf, size_t len)
{
	long d;

	d = report_day_of(&r->now) - report_day_of(&r->drill.when);
	if (r->drill.ran)
		snprintf(buf, len, "tonight");
	else if (d < 0)
		snprintf(buf, len, "after the report time"); /* a clock error */
	else if (d == 0)
		snprintf(buf, len, "earlier today");
	else if (d == 1)
		snprintf(buf, len, "yesterday");
	else
		snprintf(buf, len, "%ld days ago", d);
	return buf;
}

void
report_drill_lines(const struct gfsb_report_drill *d,
    struct report_drill_lines *l)
{
	char a[64], b[64], c[64];
	double pct;
	int n;

	n = snprintf(l->sample, sizeof(l->sample), "%s file%s, %s",
	    report_fmt_count(d->files, a, sizeof(a)), d->files == 1 ? "" : "s",
	    report_fmt_size(d->bytes, b, sizeof(b)));
	if (d->total_bytes > 0 && n > 0 && (size_t)n < sizeof(l->sample)) {
		pct = 100.0 * (double)d->bytes / (double)d->total_bytes;
		snprintf(l->sample + n, sizeof(l->sample) - (size_t)n,
		    pct > 0 && pct < 0.05 ? " (under 0.1%% of the snapshot)" :
		    " (%.1f%% of the snapshot)", pct);
	}
	/* The bound keeps the conversion defined. */
	if (d->rate >= 0 && d->rate < 1e18)
		snprintf(l->rate, sizeof(l->rate), "%s/s",
		    report_fmt_size((uint64_t)(d->rate + 0.5), a, sizeof(a)));
	else
		snprintf(l->rate, sizeof(l->rate), "unknown");
	snprintf(l->projected, sizeof(l->projected), "%s to restore all %s "
	    "file%s, %s", gfsb_duration_format(d->projected, a, sizeof(a)),
	    report_fmt_count(d->total_files, b, sizeof(b)),
	    d->total_files == 1 ? "" : "s",
	    report_fmt_size(d->total_bytes, c, sizeof(c)));
	l->exceeds = d->rto > 0 && d->projected > d->rto;
	l->rto[0] = '\0';
	if (d->rto > 0)
		snprintf(l->rto, sizeof(l->rto), "%s the objective of %s",
		    !(d->projected >= 0) ? "no projection to compare with" :
		    l->exceeds ? "EXCEEDS" : "within",
		    gfsb_duration_format(d->rto, a, sizeof(a)));
}
