/* gfs: retention decisions on synthetic histories (gaps, several a day,
 * DST, 29 February, ISO week 53, year boundaries), every rule alone and
 * combined, with reasons checked; policy files and their errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/util.h>

#define MAXN 2048

static struct gfsb_gfs_item items[MAXN];
static struct gfsb_gfs_decision dec[MAXN];
static size_t n;

static void
tz(const char *zone)
{
	setenv("TZ", zone, 1);
	tzset();
}

static void
reset(void)
{
	n = 0;
}

static struct gfsb_time
at(const char *local)
{
	struct gfsb_time t;

	assert_int_equal(gfsb_time_parse_local(local, &t), GFSB_OK);
	return t;
}

static void
add(const char *local)
{
	assert_true(n < MAXN);
	memset(&items[n], 0, sizeof(items[n]));
	items[n++].time = at(local);
}

static struct gfsb_policy *
policy(const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct gfsb_policy *p;

	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(NULL, p, k1, v1, "t"), GFSB_OK);
	if (k2 != NULL)
		assert_int_equal(gfsb_gfs_policy_set(NULL, p, k2, v2, "t"),
		    GFSB_OK);
	return p;
}

/* "Now" for the tests: after every history. */
static const struct gfsb_time now = { 4102444800LL, 0 }; /* 2100-01-01 */

static void
run(struct gfsb_policy *p)
{
	assert_int_equal(gfsb_gfs_apply(p, items, n, &now, dec), GFSB_OK);
	gfsb_gfs_policy_free(p);
}

/* The decision for the snapshot taken at `local`. */
static const struct gfsb_gfs_decision *
of(const char *local)
{
	struct gfsb_time t = at(local);
	size_t i;

	for (i = 0; i < n; i++)
		if (gfsb_time_cmp(&items[i].time, &t) == 0)
			return &dec[i];
	fail_msg("no snapshot at %s", local);
	return NULL;
}

static int
has_reason(const struct gfsb_gfs_decision *d, const char *r)
{
	size_t i;

	for (i = 0; i < d->nreasons; i++)
		if (strcmp(d->reasons[i], r) == 0)
			return 1;
	return 0;
}

static size_t
kept(void)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += dec[i].keep;
	return k;
}

static void
expect(const char *local, int keep, const char *reason)
{
	const struct gfsb_gfs_decision *d = of(local);

	if (d->keep != keep)
		fail_msg("%s: keep=%d, expected %d", local, d->keep, keep);
	if (reason != NULL && !has_reason(d, reason))
		fail_msg("%s: no reason \"%s\" (has %zu: %s)", local, reason,
		    d->nreasons, d->nreasons ? d->reasons[0] : "");
}

/* Daily snapshots at 01:00 from `from` for `days` days, skipping days
 * where omit(k) is true. */
static void
daily(const char *from, int days, int (*omit)(int))
{
	struct gfsb_time t0 = at(from);
	char buf[32];
	int k;

	for (k = 0; k < days; k++) {
		struct gfsb_time t;
		struct tm tm;
		time_t tt = (time_t)t0.sec;

		if (omit != NULL && omit(k))
			continue;
		localtime_r(&tt, &tm);
		tm.tm_mday += k;
		tm.tm_isdst = -1;
		t.sec = mktime(&tm);
		t.nsec = 0;
		gfsb_time_format_local(&t, buf, sizeof(buf));
		add(buf);
	}
}

static void
test_keep_last(void **state)
{
	(void)state;
	tz("UTC");
	reset();
	add("2026-01-01 10:00:00");
	add("2026-01-01 11:00:00");
	add("2026-01-01 12:00:00");
	add("2026-01-01 13:00:00");
	run(policy("keep-last", "2", NULL, NULL));
	expect("2026-01-01 13:00:00", 1, "last snapshot");
	expect("2026-01-01 12:00:00", 1, "last snapshot");
	expect("2026-01-01 11:00:00", 0, NULL);
	expect("2026-01-01 10:00:00", 0, NULL);
	assert_int_equal(of("2026-01-01 12:00:00")->counters[GFSB_RULE_LAST],
	    0);
}

/* A missed day costs nothing: counts are used only by days that have
 * snapshots. */
static int
skip_some(int k)
{
	return k == 3 || k == 4 || k == 7;
}

static void
test_daily_with_gaps(void **state)
{
	(void)state;
	tz("UTC");
	reset();
	daily("2026-03-01 01:00:00", 10, skip_some); /* 1..10 w/o 4,5,8 */
	run(policy("keep-daily", "4", NULL, NULL));
	assert_int_equal(kept(), 4);
	expect("2026-03-10 01:00:00", 1, "daily snapshot");
	expect("2026-03-09 01:00:00", 1, "daily snapshot");
	expect("2026-03-07 01:00:00", 1, "daily snapshot");
	expect("2026-03-06 01:00:00", 1, "daily snapshot");
	expect("2026-03-03 01:00:00", 0, NULL);
}

/* Several a day: the newest of each day; the oldest snapshot is kept
 * too while a rule has count left ("oldest" rule). */
static void
test_several_a_day_and_oldest(void **state)
{
	(void)state;
	tz("UTC");
	reset();
	add("2026-05-01 08:00:00");
	add("2026-05-01 20:00:00");
	add("2026-05-02 08:00:00");
	add("2026-05-02 20:00:00");
	run(policy("keep-daily", "5", NULL, NULL));
	expect("2026-05-02 20:00:00", 1, "daily snapshot");
	expect("2026-05-02 08:00:00", 0, NULL);
	expect("2026-05-01 20:00:00", 1, "daily snapshot");
	expect("2026-05-01 08:00:00", 1, "oldest daily snapshot");
	assert_int_equal(kept(), 3);
	/* With the count used up there is no "oldest" keep. */
	run(policy("keep-daily", "2", NULL, NULL));
	expect("2026-05-01 08:00:00", 0, NULL);
	assert_int_equal(kept(), 2);
}

static void
test_weekly_iso(void **state)
{
	struct gfsb_time t;

	(void)state;
	tz("UTC");
	/* 2026 has 53 ISO weeks: 2027-01-03 (Sunday) is still 2026-W53. */
	t = at("2026-12-31 12:00:00");
	assert_int_equal(gfsb_gfs_period(GFSB_RULE_WEEKLY, &t), 202653);
	t = at("2027-01-03 12:00:00");
	assert_int_equal(gfsb_gfs_period(GFSB_RULE_WEEKLY, &t), 202653);
	t = at("2027-01-04 12:00:00");
	assert_int_equal(gfsb_gfs_period(GFSB_RULE_WEEKLY, &t), 202701);
	/* 2024-12-30, a Monday, starts 2025-W01. */
	t = at("2024-12-30 00:00:00");
	assert_int_equal(gfsb_gfs_period(GFSB_RULE_WEEKLY, &t), 202501);
	t = at("2024-12-29 23:59:59");
	assert_int_equal(gfsb_gfs_period(GFSB_RULE_WEEKLY, &t), 202452);
	/* Weeks run Monday to Sunday. */
	reset();
	add("2026-12-28 01:00:00"); /* Mon, W53 */
	add("2027-01-03 01:00:00"); /* Sun, W53 */
	add("2027-01-04 01:00:00"); /* Mon, 2027-W01 */
	run(policy("keep-weekly", "2", NULL, NULL));
	expect("2027-01-04 01:00:00", 1, "weekly snapshot");
	expect("2027-01-03 01:00:00", 1, "weekly snapshot");
	expect("2026-12-28 01:00:00", 0, NULL);
}

static void
test_year_boundary(void **state)
{
	(void)state;
	tz("Europe/Berlin");
	reset();
	add("2025-12-31 23:30:00"); /* 22:30 UTC: local year 2025 */
	add("2026-01-01 00:30:00");
	run(policy("keep-yearly", "2", NULL, NULL));
	expect("2026-01-01 00:30:00", 1, "yearly snapshot");
	expect("2025-12-31 23:30:00", 1, "yearly snapshot");
	reset();
	add("2026-01-01 00:30:00");
	add("2026-01-01 23:30:00");
	run(policy("keep-monthly", "1", NULL, NULL));
	expect("2026-01-01 23:30:00", 1, "monthly snapshot");
	expect("2026-01-01 00:30:00", 0, NULL);
}

/* Local days across DST changes: a day of 23 and one of 25 hours. */
static void
test_dst(void **state)
{
	(void)state;
	tz("Europe/Berlin");
	reset();
	add("2026-03-28 23:30:00");
	add("2026-03-29 00:30:00"); /* the night clocks go forward */
	add("2026-03-29 03:30:00");
	add("2026-03-29 23:30:00");
	add("2026-03-30 00:30:00");
	run(policy("keep-daily", "3", NULL, NULL));
	expect("2026-03-30 00:30:00", 1, "daily snapshot");
	expect("2026-03-29 23:30:00", 1, "daily snapshot");
	expect("2026-03-29 03:30:00", 0, NULL);
	expect("2026-03-29 00:30:00", 0, NULL);
	expect("2026-03-28 23:30:00", 1, "daily snapshot");
	/* Autumn: 02:30 happens twice, an hour apart: one hourly period. */
	reset();
	items[0].time.sec = 1792888200; /* 2026-10-25 02:30 CEST */
	items[1].time.sec = 1792888200 + 3600; /* 02:30 CET */
	items[0].ntags = items[1].ntags = 0;
	n = 2;
	assert_int_equal(gfsb_gfs_period(GFSB_RULE_HOURLY, &items[0].time),
	    gfsb_gfs_period(GFSB_RULE_HOURLY, &items[1].time));
	run(policy("keep-hourly", "1", NULL, NULL));
	assert_true(dec[1].keep && !dec[0].keep);
	/* keep-within across the change: 1d back from 2026-03-30 12:00
	 * local is 2026-03-29 12:00 local, 23 hours earlier. */
	reset();
	add("2026-03-29 12:00:00");
	add("2026-03-29 12:30:00");
	add("2026-03-30 12:00:00");
	run(policy("keep-within", "1d", NULL, NULL));
	expect("2026-03-30 12:00:00", 1, "within 1d");
	expect("2026-03-29 12:30:00", 1, "within 1d");
	expect("2026-03-29 12:00:00", 0, NULL); /* not strictly after */
}

static void
test_leap_day(void **state)
{
	(void)state;
	tz("UTC");
	reset();
	add("2028-02-28 10:00:00");
	add("2028-02-29 10:00:00");
	add("2028-03-01 09:00:00");
	add("2028-03-01 11:00:00");
	add("2029-03-01 10:00:00");
	/* 1y before 2029-03-01 10:00 is 2028-03-01 10:00. */
	run(policy("keep-within", "1y", NULL, NULL));
	expect("2029-03-01 10:00:00", 1, "within 1y");
	expect("2028-03-01 11:00:00", 1, "within 1y");
	expect("2028-03-01 09:00:00", 0, NULL);
	expect("2028-02-29 10:00:00", 0, NULL);
	/* Daily and monthly periods over the leap day: the two monthly
	 * counts go to March 2029 and March 2028, so February 29 is only
	 * the third daily. */
	run(policy("keep-daily", "3", "keep-monthly", "2"));
	expect("2029-03-01 10:00:00", 1, "monthly snapshot");
	expect("2028-03-01 11:00:00", 1, "monthly snapshot");
	expect("2028-03-01 09:00:00", 0, NULL);
	expect("2028-02-29 10:00:00", 1, "daily snapshot");
	assert_int_equal(of("2028-02-29 10:00:00")->nreasons, 1);
	expect("2028-02-28 10:00:00", 0, NULL);
	run(policy("keep-monthly", "4", NULL, NULL)); /* one left over */
	expect("2028-02-29 10:00:00", 1, "monthly snapshot");
	expect("2028-02-28 10:00:00", 1, "oldest monthly snapshot");
	/* 1m before 2028-03-31 is "2028-02-31", which is 2028-03-02. */
	reset();
	add("2028-03-01 12:00:00");
	add("2028-03-02 12:00:00");
	add("2028-03-31 12:00:00");
	run(policy("keep-within", "1m", NULL, NULL));
	expect("2028-03-02 12:00:00", 0, NULL);
	expect("2028-03-01 12:00:00", 0, NULL);
	expect("2028-03-31 12:00:00", 1, "within 1m");
}

static void
test_within_periods(void **state)
{
	(void)state;
	tz("UTC");
	reset();
	daily("2026-01-01 01:00:00", 60, NULL);
	add("2026-03-01 13:00:00");
	/* 14 days back from 2026-03-01 13:00: from 2026-02-15 13:00. */
	run(policy("keep-within-daily", "14d", NULL, NULL));
	expect("2026-03-01 13:00:00", 1, "daily within 14d");
	expect("2026-03-01 01:00:00", 0, NULL);
	expect("2026-02-16 01:00:00", 1, "daily within 14d");
	expect("2026-02-15 01:00:00", 0, NULL);
	assert_int_equal(kept(), 14); /* Feb 16 .. Mar 1 */
	run(policy("keep-within-weekly", "1m", NULL, NULL));
	/* Newest of each ISO week after 2026-02-01 13:00. */
	expect("2026-03-01 13:00:00", 1, "weekly within 1m");
	expect("2026-02-22 01:00:00", 1, "weekly within 1m"); /* Sunday */
	expect("2026-02-23 01:00:00", 0, NULL);
	run(policy("keep-within-monthly", "1y", "keep-within-yearly", "2y"));
	expect("2026-03-01 13:00:00", 1, "monthly within 1y");
	expect("2026-03-01 13:00:00", 1, "yearly within 2y");
	expect("2026-02-28 01:00:00", 1, "monthly within 1y");
	expect("2026-01-31 01:00:00", 1, "monthly within 1y");
	assert_int_equal(kept(), 3);
	run(policy("keep-within-hourly", "2h", NULL, NULL));
	assert_int_equal(kept(), 1);
}

/* A snapshot from the future (a clock error) does not move the window. */
static void
test_future_snapshot(void **state)
{
	struct gfsb_policy *p = policy("keep-within", "7d", NULL, NULL);
	struct gfsb_time today;

	(void)state;
	tz("UTC");
	reset();
	add("2026-06-01 01:00:00");
	add("2026-06-05 01:00:00");
	add("2099-01-01 01:00:00"); /* clock error */
	today = at("2026-06-06 00:00:00");
	assert_int_equal(gfsb_gfs_apply(p, items, n, &today, dec), GFSB_OK);
	expect("2099-01-01 01:00:00", 1, "within 7d");
	expect("2026-06-05 01:00:00", 1, "within 7d");
	expect("2026-06-01 01:00:00", 1, "within 7d");
	gfsb_gfs_policy_free(p);
}

static void
test_tags(void **state)
{
	char *a[] = { "monthly", "audit" }, *b[] = { "audit" };
	struct gfsb_policy *p;

	(void)state;
	tz("UTC");
	reset();
	add("2026-01-01 01:00:00");
	items[0].tags = a;
	items[0].ntags = 2;
	add("2026-01-02 01:00:00");
	items[1].tags = b;
	items[1].ntags = 1;
	add("2026-01-03 01:00:00");
	p = policy("keep-tag", "audit, monthly", "keep-last", "1");
	run(p);
	expect("2026-01-01 01:00:00", 1, "has tags [audit monthly]");
	expect("2026-01-02 01:00:00", 0, NULL);
	expect("2026-01-03 01:00:00", 1, "last snapshot");
	assert_true(of("2026-01-01 01:00:00")->roles & GFSB_ROLE_TAG);
}

/* The standard policy over three years of daily backups with gaps. */
static int
skip_gaps(int k)
{
	return k % 17 == 5 || (k > 300 && k < 320);
}

static void
test_standard_policy(void **state)
{
	struct gfsb_policy *p;
	const struct gfsb_gfs_decision *d;

	(void)state;
	tz("Europe/Paris");
	reset();
	daily("2024-01-01 01:00:00", 3 * 365, skip_gaps);
	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(NULL, p, "keep-daily", "7", "t"),
	    GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(NULL, p, "keep-weekly", "4",
	    "t"), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(NULL, p, "keep-monthly", "12",
	    "t"), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(NULL, p, "keep-yearly", "7",
	    "t"), GFSB_OK);
	run(p);
	/* The newest is every kind of snapshot at once. */
	d = of("2026-12-30 01:00:00");
	assert_true(d->keep);
	assert_int_equal(d->roles, GFSB_ROLE_DAILY | GFSB_ROLE_WEEKLY |
	    GFSB_ROLE_MONTHLY | GFSB_ROLE_YEARLY);
	assert_int_equal(d->nreasons, 4);
	/* Yearly: the newest of 2025 and 2024, and the oldest snapshot
	 * because the yearly count is not used up. */
	expect("2025-12-31 01:00:00", 1, "yearly snapshot");
	expect("2024-12-31 01:00:00", 1, "yearly snapshot");
	expect("2024-01-01 01:00:00", 1, "oldest yearly snapshot");
	/* Monthly: end of each month back to 2026-01 (12 months). */
	expect("2026-01-31 01:00:00", 1, "monthly snapshot");
	/* A mid-month day of last year is gone. */
	expect("2025-06-15 01:00:00", 0, NULL);
	/* Dec 29 is a gap, so the 7 days are Dec 23-28 and 30.  Weeks:
	 * Dec 30 (W53) and Dec 27 (W52) are already daily, then the Sundays
	 * Dec 20 and Dec 13.  Month ends back to Jan 2026 (11 more), the
	 * newest of 2025 and 2024, and the oldest: 7 + 2 + 11 + 2 + 1. */
	expect("2026-12-27 01:00:00", 1, "weekly snapshot");
	expect("2026-12-23 01:00:00", 1, "daily snapshot");
	expect("2026-12-20 01:00:00", 1, "weekly snapshot");
	expect("2026-12-13 01:00:00", 1, "weekly snapshot");
	expect("2026-12-06 01:00:00", 0, NULL);
	expect("2026-11-30 01:00:00", 1, "monthly snapshot");
	assert_int_equal(kept(), 23);
}

static void
test_empty_policy_refused(void **state)
{
	struct gfsb_policy *p;

	(void)state;
	reset();
	add("2026-01-01 01:00:00");
	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	assert_true(gfsb_gfs_policy_empty(p));
	assert_int_equal(gfsb_gfs_apply(p, items, n, &now, dec), GFSB_EINVAL);
	gfsb_gfs_policy_free(p);
	/* A count of 0 is no rule either. */
	p = policy("keep-daily", "0", NULL, NULL);
	assert_true(gfsb_gfs_policy_empty(p));
	gfsb_gfs_policy_free(p);
}

static void
test_durations(void **state)
{
	struct gfsb_duration d;
	char buf[64];

	(void)state;
	assert_int_equal(gfsb_gfs_duration_parse("1y5m7d2h", &d), GFSB_OK);
	assert_int_equal(d.years, 1);
	assert_int_equal(d.months, 5);
	assert_int_equal(d.days, 7);
	assert_int_equal(d.hours, 2);
	assert_string_equal(gfsb_gfs_duration_format(&d, buf, sizeof(buf)),
	    "1y5m7d2h");
	assert_int_equal(gfsb_gfs_duration_parse("36h", &d), GFSB_OK);
	assert_string_equal(gfsb_gfs_duration_format(&d, buf, sizeof(buf)),
	    "36h");
	assert_int_equal(gfsb_gfs_duration_parse("", &d), GFSB_EINVAL);
	assert_int_equal(gfsb_gfs_duration_parse("7", &d), GFSB_EINVAL);
	assert_int_equal(gfsb_gfs_duration_parse("7w", &d), GFSB_EINVAL);
	assert_int_equal(gfsb_gfs_duration_parse("d", &d), GFSB_EINVAL);
	assert_int_equal(gfsb_gfs_duration_parse("-1d", &d), GFSB_EINVAL);
	assert_int_equal(gfsb_gfs_duration_parse("0d", &d), GFSB_EINVAL);
}

/* Write `text` to a policy file and load it: the error message must name
 * the file and line. */
static void
load_expect(const char *text, gfsb_err want, const char *msg)
{
	char path[] = "/tmp/gfsb-policy-XXXXXX", where[64];
	struct gfsb_policy *p = NULL;
	struct gfsb_ctx *ctx;
	FILE *f;
	int fd;
	gfsb_err e;

	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_true((fd = mkstemp(path)) >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	e = gfsb_gfs_policy_load(ctx, path, &p);
	if (e != want)
		fail_msg("load: %d, expected %d (%s)", e, want,
		    gfsb_ctx_errmsg(ctx));
	if (msg != NULL) {
		if (strstr(gfsb_ctx_errmsg(ctx), msg) == NULL)
			fail_msg("message \"%s\" lacks \"%s\"",
			    gfsb_ctx_errmsg(ctx), msg);
		snprintf(where, sizeof(where), "%s:", path);
		if (strstr(gfsb_ctx_errmsg(ctx), where) == NULL)
			fail_msg("message \"%s\" does not name the file",
			    gfsb_ctx_errmsg(ctx));
	}
	gfsb_gfs_policy_free(p);
	gfsb_ctx_free(ctx);
	unlink(path);
}

static void
test_policy_files(void **state)
{
	(void)state;
	load_expect("# standard\nkeep-daily = 7\nkeep-weekly=4\n"
	    "keep-within = 1y2m ; inline comment\nkeep-tag = a,b\n", GFSB_OK,
	    NULL);
	load_expect("keep-daily = 7\nkeep-dialy = 3\n", GFSB_EINVAL,
	    ":2: unknown key \"keep-dialy\"");
	load_expect("\n\nkeep-weekly = -4\n", GFSB_EINVAL,
	    ":3: keep-weekly: negative count -4");
	load_expect("keep-monthly = twelve\n", GFSB_EINVAL,
	    ":1: keep-monthly: \"twelve\" is not a count");
	load_expect("keep-within = 1week\n", GFSB_EINVAL,
	    ":1: keep-within: malformed duration");
	load_expect("keep-daily = 7\nkeep-daily = 8\n", GFSB_EINVAL,
	    ":2: keep-daily is given twice");
	load_expect("[retention]\nkeep-daily = 7\n", GFSB_EINVAL,
	    ":2: sections");
	load_expect("keep-daily = 7\nthis line has no equals sign\n",
	    GFSB_EINVAL, ":2: expected \"key = value\"");
	load_expect("# nothing but comments\n", GFSB_EINVAL, "no rule");
	load_expect("keep-daily = 0\n", GFSB_EINVAL, "no rule");
}

static void
test_shipped_policies(void **state)
{
	static const char *names[] = { "standard", "minimal",
		"compliance-10y" };
	struct gfsb_policy *p;
	struct gfsb_ctx *ctx;
	char path[512];
	size_t i;

	(void)state;
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/schedules/%s.policy",
		    GFSB_SOURCE_DIR, names[i]);
		if (gfsb_gfs_policy_load(ctx, path, &p) != GFSB_OK)
			fail_msg("%s: %s", path, gfsb_ctx_errmsg(ctx));
		if (i == 0) {
			assert_int_equal(p->keep[GFSB_RULE_DAILY], 7);
			assert_int_equal(p->keep[GFSB_RULE_WEEKLY], 4);
			assert_int_equal(p->keep[GFSB_RULE_MONTHLY], 12);
			assert_int_equal(p->keep[GFSB_RULE_YEARLY], 7);
		}
		gfsb_gfs_policy_free(p);
	}
	gfsb_ctx_free(ctx);
}

static void
test_simulation(void **state)
{
	struct gfsb_policy *p = policy("keep-daily", "7", "keep-weekly", "4");
	struct gfsb_gfs_sim sim;
	struct gfsb_time end;

	(void)state;
	tz("UTC");
	end = at("2026-06-30 01:00:00");
	assert_int_equal(gfsb_gfs_simulate(p, 365, &end, &sim), GFSB_OK);
	/* Jun 24-30 (7 days) and the Sundays Jun 21 and 14 (the newest of
	 * the weeks before; Jun 28 and 30 are already daily): 9. */
	assert_int_equal(sim.held, 9);
	assert_int_equal(sim.age_days[0], 0);
	assert_true(sim.max_held >= sim.held);
	assert_true(sim.max_held <= 12);
	gfsb_gfs_sim_fini(&sim);
	assert_int_equal(gfsb_gfs_simulate(p, 0, &end, &sim), GFSB_EINVAL);
	gfsb_gfs_policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_last),
		cmocka_unit_test(test_daily_with_gaps),
		cmocka_unit_test(test_several_a_day_and_oldest),
		cmocka_unit_test(test_weekly_iso),
		cmocka_unit_test(test_year_boundary),
		cmocka_unit_test(test_dst),
		cmocka_unit_test(test_leap_day),
		cmocka_unit_test(test_within_periods),
		cmocka_unit_test(test_future_snapshot),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_standard_policy),
		cmocka_unit_test(test_empty_policy_refused),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_policy_files),
		cmocka_unit_test(test_shipped_policies),
		cmocka_unit_test(test_simulation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
