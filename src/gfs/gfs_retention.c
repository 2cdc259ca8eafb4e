/*
 * Retention decisions: restic's `forget` algorithm, exactly.
 *
 * Snapshots are walked newest first.  Each count rule (last, hourly,
 * daily, weekly, monthly, yearly) remembers the last period it kept; a
 * snapshot in a period the rule has not seen yet is kept by that rule and
 * uses up one of its count.  Only periods that hold a snapshot count, so a
 * missed day costs nothing.  When a rule still has count left at the oldest
 * snapshot, that snapshot is kept too ("oldest daily snapshot"): this keeps
 * the longest history the counts allow.  keep-within* rules keep snapshots
 * newer than the newest snapshot minus the duration (every one, or the
 * newest of each period); keep-tag keeps snapshots carrying all tags of a
 * list.  Rules are OR-ed and a snapshot counts for every rule it satisfies.
 * Periods are calendar periods in the local time zone; weeks are ISO 8601.
 * docs/RETENTION.md states the rules with worked examples.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gfsbackup/gfs.h>

#include "gfs_internal.h"

static const char *const count_reason[GFSB_RULE_COUNT] = {
	"last snapshot", "hourly snapshot", "daily snapshot",
	"weekly snapshot", "monthly snapshot", "yearly snapshot"
};

static const char *const within_reason[GFSB_RULE_COUNT] = {
	"within", "hourly within", "daily within", "weekly within",
	"monthly within", "yearly within"
};

/* ISO 8601 weeks in a year: 53 when it starts on a Thursday, or on a
 * Wednesday in a leap year. */
static int
iso_weeks(int y)
{
	int p = (y + y / 4 - y / 100 + y / 400) % 7;
	int q = ((y - 1) + (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400) % 7;

	return (p == 4 || q == 3) ? 53 : 52;
}

static long
iso_week(const struct tm *tm)
{
	int year = tm->tm_year + 1900;
	int wday = tm->tm_wday == 0 ? 7 : tm->tm_wday; /* Monday = 1 */
	int week = (tm->tm_yday + 1 - wday + 10) / 7;

	if (week < 1) {
		year--;
		week = iso_weeks(year);
	} else if (week > iso_weeks(year)) {
		year++;
		week = 1;
	}
	return (long)year * 100 + week;
}

long
gfsb_gfs_period(enum gfsb_gfs_rule rule, const struct gfsb_time *t)
{
	struct tm tm;
	time_t tt = (time_t)t->sec;
	long y, m, d;

	localtime_r(&tt, &tm);
	y = tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	d = tm.tm_mday;
	switch (rule) {
	case GFSB_RULE_HOURLY: return y * 1000000 + m * 10000 + d * 100 +
	    tm.tm_hour;
	case GFSB_RULE_DAILY: return y * 10000 + m * 100 + d;
	case GFSB_RULE_WEEKLY: return iso_week(&tm);
	case GFSB_RULE_MONTHLY: return y * 100 + m;
	case GFSB_RULE_YEARLY: return y;
	default: return 0;
	}
}

/* latest minus a calendar duration, as Go's AddDate then Add(-hours):
 * fields are normalised in local time (Mar 31 minus a month is Mar 3). */
struct gfsb_time
gfs_cutoff(const struct gfsb_time *latest, const struct gfsb_duration *d)
{
	struct gfsb_time c;
	struct tm tm;
	time_t tt = (time_t)latest->sec;

	if (latest->sec == INT64_MIN / 2)
		return *latest;

	localtime_r(&tt, &tm);
	tm.tm_year -= d->years;
	tm.tm_mon -= d->months;
	tm.tm_mday -= d->days;
	tm.tm_isdst = -1;
	c.sec = (int64_t)mktime(&tm) - (int64_t)d->hours * 3600;
	c.nsec = latest->nsec;
	return c;
}

static int
has_tags(const struct gfsb_gfs_item *it, char *const *want, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < it->ntags; j++)
			if (strcmp(it->tags[j], want[i]) == 0)
				break;
		if (j == it->ntags)
			return 0;
	}
	return 1;
}

static void
add_reason(struct gfsb_gfs_decision *d, const char *a, const char *b,
    const char *c)
{
	if (d->nreasons < sizeof(d->reasons) / sizeof(d->reasons[0]))
		snprintf(d->reasons[d->nreasons++], sizeof(d->reasons[0]),
		    "%s%s%s", a, b, c);
}

/* Newest first; equal times keep their input order (stable). */
struct ordkey {
	struct gfsb_time t;
	size_t i;
};

static int
ordcmp(const void *a, const void *b)
{
	const struct ordkey *x = a, *y = b;
	int c = gfsb_time_cmp(&y->t, &x->t);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

gfsb_err
gfs_newest_first(const struct gfsb_gfs_item *items, size_t n, size_t **out)
{
	struct ordkey *k;
	size_t *ord, i;

	*out = NULL;
	if ((ord = malloc(n * sizeof(*ord))) == NULL)
		return GFSB_ENOMEM;
	if ((k = malloc(n * sizeof(*k))) == NULL) {
		free(ord);
		return GFSB_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		k[i].t = items[i].time;
		k[i].i = i;
	}
	qsort(k, n, sizeof(*k), ordcmp);
	for (i = 0; i < n; i++)
		ord[i] = k[i].i;
	free(k);
	*out = ord;
	return GFSB_OK;
}

gfsb_err
gfsb_gfs_apply(const struct gfsb_policy *p, const struct gfsb_gfs_item *items,
    size_t n, const struct gfsb_time *now, struct gfsb_gfs_decision *out)
{
	struct gfsb_time latest, cut[GFSB_RULE_COUNT];
	long last[GFSB_RULE_COUNT], wlast[GFSB_RULE_COUNT], val;
	int count[GFSB_RULE_COUNT];
	char dur[64], tags[128];
	size_t *ord, nr, i, r, o;
	const struct gfsb_gfs_item *cur;
	struct gfsb_gfs_decision *d;

	if (gfsb_gfs_policy_empty(p))
		return GFSB_EINVAL;
	if (n == 0)
		return GFSB_OK;
	if (gfs_newest_first(items, n, &ord) != GFSB_OK)
		return GFSB_ENOMEM;
	/* The newest snapshot not in the future (restic does the same); if
	 * every one is, windows reach back to the beginning of time. */
	latest.sec = INT64_MIN / 2;
	latest.nsec = 0;
	for (nr = 0; nr < n; nr++)
		if (gfsb_time_cmp(&items[ord[nr]].time, now) < 0) {
			latest = items[ord[nr]].time;
			break;
		}
	for (r = 0; r < GFSB_RULE_COUNT; r++) {
		count[r] = p->keep[r];
		last[r] = wlast[r] = -1;
		cut[r] = gfs_cutoff(&latest, &p->within[r]);
	}
	for (nr = 0; nr < n; nr++) {
		cur = &items[ord[nr]];
		d = &out[ord[nr]];
		memset(d, 0, sizeof(*d));
		/* Tags first, as restic: they are not counted. */
		for (i = 0; i < p->nlists; i++) {
			if (!has_tags(cur, p->tags[i], p->ntags[i]))
				continue;
			for (o = 0, tags[0] = '\0'; o < p->ntags[i]; o++) {
				strncat(tags, o ? " " : "", sizeof(tags) -
				    strlen(tags) - 1);
				strncat(tags, p->tags[i][o], sizeof(tags) -
				    strlen(tags) - 1);
			}
			d->keep = 1;
			d->roles |= GFSB_ROLE_TAG;
			add_reason(d, "has tags [", tags, "]");
		}
		for (r = 0; r < GFSB_RULE_COUNT; r++) {
			if (count[r] <= 0)
				continue;
			val = r == GFSB_RULE_LAST ? (long)nr :
			    gfsb_gfs_period((enum gfsb_gfs_rule)r, &cur->time);
			if (val == last[r] && nr != n - 1)
				continue;
			d->keep = 1;
			d->roles |= 1u << r;
			count[r]--;
			if (val != last[r])
				add_reason(d, "", count_reason[r], "");
			else
				add_reason(d, "oldest ", count_reason[r], "");
			last[r] = val;
		}
		for (r = 0; r < GFSB_RULE_COUNT; r++) {
			const struct gfsb_duration *w = &p->within[r];

			if (w->years == 0 && w->months == 0 && w->days == 0 &&
			    w->hours == 0)
				continue;
			if (gfsb_time_cmp(&cur->time, &cut[r]) <= 0)
				continue;
			val = r == GFSB_RULE_LAST ? (long)nr :
			    gfsb_gfs_period((enum gfsb_gfs_rule)r, &cur->time);
			if (val == wlast[r])
				continue;
			wlast[r] = val;
			d->keep = 1;
			d->roles |= GFSB_ROLE_WITHIN;
			add_reason(d, within_reason[r], " ",
			    gfsb_gfs_duration_format(w, dur, sizeof(dur)));
		}
		memcpy(d->counters, count, sizeof(count));
	}
	free(ord);
	return GFSB_OK;
}

/* ---- simulation ---- */

void
gfsb_gfs_sim_fini(struct gfsb_gfs_sim *s)
{
	free(s->age_days);
	free(s->roles);
	memset(s, 0, sizeof(*s));
}

/* Day k before `end`, same wall-clock time (DST-safe). */
static struct gfsb_time
days_before(const struct gfsb_time *end, long k)
{
	struct gfsb_time t;
	struct tm tm;
	time_t tt = (time_t)end->sec;

	localtime_r(&tt, &tm);
	tm.tm_mday -= (int)k;
	tm.tm_isdst = -1;
	t.sec = (int64_t)mktime(&tm);
	t.nsec = 0;
	return t;
}

gfsb_err
gfsb_gfs_simulate(const struct gfsb_policy *p, size_t days,
    const struct gfsb_time *end, struct gfsb_gfs_sim *out)
{
	struct gfsb_gfs_item *held = NULL;
	struct gfsb_gfs_decision *dec = NULL;
	struct gfsb_time now;
	long *age = NULL;
	size_t n = 0, day, i, k;
	gfsb_err e = GFSB_ENOMEM;

	memset(out, 0, sizeof(*out));
	if (gfsb_gfs_policy_empty(p) || days == 0 || days > 100000)
		return GFSB_EINVAL;
	/* Never more held than days; usually far fewer. */
	if ((held = calloc(days, sizeof(*held))) == NULL ||
	    (dec = calloc(days, sizeof(*dec))) == NULL ||
	    (age = calloc(days, sizeof(*age))) == NULL)
		goto out;
	for (day = 0; day < days; day++) {
		held[n].time = days_before(end, (long)(days - 1 - day));
		age[n] = (long)(days - 1 - day);
		n++;
		now = held[n - 1].time;
		now.sec++;
		if ((e = gfsb_gfs_apply(p, held, n, &now, dec)) != GFSB_OK)
			goto out;
		for (i = k = 0; i < n; i++) {
			if (!dec[i].keep)
				continue;
			held[k] = held[i];
			age[k] = age[i];
			dec[k] = dec[i];
			k++;
		}
		n = k;
		if (n > out->max_held)
			out->max_held = n;
	}
	out->days = days;
	out->held = n;
	if ((out->age_days = calloc(n ? n : 1, sizeof(int))) == NULL ||
	    (out->roles = calloc(n ? n : 1, sizeof(unsigned))) == NULL) {
		gfsb_gfs_sim_fini(out);
		e = GFSB_ENOMEM;
		goto out;
	}
	/* Held in time order, oldest first: report newest first. */
	for (i = 0; i < n; i++) {
		out->age_days[i] = (int)age[n - 1 - i];
		out->roles[i] = dec[n - 1 - i].roles;
	}
	e = GFSB_OK;
out:
	free(held);
	free(dec);
	free(age);
	return e;
}

size_t
gfsb_gfs_sim_days(const struct gfsb_policy *p)
{
	/* The days a period of each rule spans, at the most. */
	static const int span[GFSB_RULE_COUNT] = { 1, 1, 1, 7, 31, 366 };
	size_t d = 1, w;
	int r;

	for (r = 0; r < GFSB_RULE_COUNT; r++) {
		if ((size_t)p->keep[r] * (size_t)span[r] > d)
			d = (size_t)p->keep[r] * (size_t)span[r];
		w = (size_t)p->within[r].years * 366 +
		    (size_t)p->within[r].months * 31 +
		    (size_t)p->within[r].days + (size_t)p->within[r].hours / 24;
		if (w > d)
			d = w;
	}
	d += d / 10 + 7;
	return d > 36600 ? 36600 : d;
}
