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

/* How long a simulation runs by default: every rule full, a tenth and a
 * week more, at most 100 years. */
static void
test_sim_days(void **state)
{
	struct gfsb_policy *p;

	(void)state;
	p = policy("keep-daily", "7", NULL, NULL);
	assert_int_equal(gfsb_gfs_sim_days(p), 7 + 0 + 7);
	gfsb_gfs_policy_free(p);
	p = policy("keep-daily", "7", "keep-monthly", "12");
	assert_int_equal(gfsb_gfs_sim_days(p), 372 + 37 + 7);
	gfsb_gfs_policy_free(p);
	p = policy("keep-weekly", "4", "keep-within", "2y1m3d");
	assert_int_equal(gfsb_gfs_sim_days(p), 766 + 76 + 7);
	gfsb_gfs_policy_free(p);
	p = policy("keep-within-hourly", "49h", NULL, NULL);
	assert_int_equal(gfsb_gfs_sim_days(p), 2 + 0 + 7);
	gfsb_gfs_policy_free(p);
	p = policy("keep-yearly", "200", NULL, NULL);
	assert_int_equal(gfsb_gfs_sim_days(p), 36600);
	gfsb_gfs_policy_free(p);
	p = policy("keep-tag", "x", NULL, NULL);
	assert_int_equal(gfsb_gfs_sim_days(p), 1 + 0 + 7);
	gfsb_gfs_policy_free(p);
}

/* ---- Object Lock dates ---- */

static int64_t until[MAXN];

#define MARGIN (2 * 86400)

static int64_t
secs(const char *local)
{
	return at(local).sec;
}

/* Decide and compute lock dates for the current items at `now`. */
static void
lock_at(const struct gfsb_policy *p, const char *local_now)
{
	struct gfsb_time t = at(local_now);

	assert_int_equal(gfsb_gfs_apply(p, items, n, &t, dec), GFSB_OK);
	assert_int_equal(gfsb_gfs_lock_dates(p, items, n, dec, &t, MARGIN,
	    until), GFSB_OK);
}

static int64_t
until_of(const char *local)
{
	return until[of(local) - dec];
}

static void
expect_until(const char *snap, const char *end)
{
	int64_t got = until_of(snap), want = end ? secs(end) + MARGIN : 0;
	struct gfsb_time g = { got - MARGIN, 0 };
	char buf[32];

	if (got != want) {
		gfsb_time_format_local(&g, buf, sizeof(buf));
		fail_msg("%s: locked until %s + margin, expected %s", snap,
		    got ? buf : "(none)", end ? end : "(none)");
	}
}

/* The roles of the snapshot at `snap` when a snapshot is added at
 * `later` (raw seconds) and the policy applied just after it. */
static unsigned
roles_with(const struct gfsb_policy *p, const char *snap, int64_t later)
{
	struct gfsb_time t;
	unsigned roles;

	assert_true(n < MAXN);
	memset(&items[n], 0, sizeof(items[n]));
	items[n].time.sec = later;
	n++;
	t.sec = later + 1;
	t.nsec = 0;
	assert_int_equal(gfsb_gfs_apply(p, items, n, &t, dec), GFSB_OK);
	roles = of(snap)->roles;
	n--;
	return roles;
}

static int
kept_with(const struct gfsb_policy *p, const char *snap, int64_t later)
{
	return roles_with(p, snap, later) != 0;
}

static struct gfsb_policy *
policy_text(const char *text)
{
	char buf[256], *line, *save = NULL, *eq;
	struct gfsb_policy *p;

	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	snprintf(buf, sizeof(buf), "%s", text);
	for (line = strtok_r(buf, ";", &save); line != NULL;
	    line = strtok_r(NULL, ";", &save)) {
		assert_non_null(eq = strchr(line, '='));
		*eq = '\0';
		assert_int_equal(gfsb_gfs_policy_set(NULL, p, line, eq + 1,
		    "t"), GFSB_OK);
	}
	return p;
}

static void
test_lock_margin(void **state)
{
	static const char *bad[] = { "", "2", "d", "-1d", "+1d", "2w", "2D",
		"1d ", " 1d", "1d12", "12h1d", "1d1d", "1h30m5", "3651d",
		"3650d1s", "99999999999999999999s", "1.5d", "2dx", NULL };
	int64_t v;
	char buf[64];
	size_t i;

	(void)state;
	assert_int_equal(gfsb_gfs_margin_parse("2d", &v), GFSB_OK);
	assert_int_equal(v, 2 * 86400);
	assert_int_equal(gfsb_gfs_margin_parse("36h", &v), GFSB_OK);
	assert_int_equal(v, 36 * 3600);
	assert_int_equal(gfsb_gfs_margin_parse("90s", &v), GFSB_OK);
	assert_int_equal(v, 90);
	assert_int_equal(gfsb_gfs_margin_parse("1d12h", &v), GFSB_OK);
	assert_int_equal(v, 36 * 3600);
	assert_int_equal(gfsb_gfs_margin_parse("1d2h3m4s", &v), GFSB_OK);
	assert_int_equal(v, 86400 + 7200 + 180 + 4);
	assert_int_equal(gfsb_gfs_margin_parse("0s", &v), GFSB_OK);
	assert_int_equal(v, 0);
	assert_int_equal(gfsb_gfs_margin_parse("3650d", &v), GFSB_OK);
	assert_int_equal(v, GFSB_GFS_MARGIN_MAX);
	for (i = 0; bad[i] != NULL; i++) {
		v = 7;
		if (gfsb_gfs_margin_parse(bad[i], &v) != GFSB_EINVAL)
			fail_msg("margin \"%s\" accepted", bad[i]);
		assert_int_equal(v, 7); /* untouched on error */
	}
	assert_int_equal(gfsb_gfs_margin_parse(NULL, &v), GFSB_EINVAL);
	assert_string_equal(gfsb_gfs_margin_format(2 * 86400, buf,
	    sizeof(buf)), "2d");
	assert_string_equal(gfsb_gfs_margin_format(36 * 3600, buf,
	    sizeof(buf)), "1d12h");
	assert_string_equal(gfsb_gfs_margin_format(90, buf, sizeof(buf)),
	    "90s");
	assert_string_equal(gfsb_gfs_margin_format(1800, buf, sizeof(buf)),
	    "30m");
	assert_string_equal(gfsb_gfs_margin_format(0, buf, sizeof(buf)),
	    "0s");
	assert_string_equal(gfsb_gfs_margin_format(-1, buf, sizeof(buf)), "");
	/* Whatever it prints reads back as the same number. */
	for (v = 0; v < 3 * 86400; v += 997) {
		int64_t back;

		assert_int_equal(gfsb_gfs_margin_parse(
		    gfsb_gfs_margin_format(v, buf, sizeof(buf)), &back),
		    GFSB_OK);
		assert_int_equal(back, v);
	}
}

static void
test_lock_args(void **state)
{
	struct gfsb_policy *p, *empty;
	struct gfsb_time t;

	(void)state;
	tz("UTC");
	reset();
	add("2026-06-01 01:30:00");
	t = at("2026-06-01 01:30:01");
	p = policy("keep-daily", "3", NULL, NULL);
	assert_int_equal(gfsb_gfs_apply(p, items, n, &t, dec), GFSB_OK);
	until[0] = 42;
	assert_int_equal(gfsb_gfs_lock_dates(p, items, n, dec, &t, -1, until),
	    GFSB_EINVAL);
	assert_int_equal(gfsb_gfs_lock_dates(p, items, n, dec, &t,
	    GFSB_GFS_MARGIN_MAX + 1, until), GFSB_EINVAL);
	assert_int_equal(until[0], 42);
	assert_int_equal(gfsb_gfs_policy_new(&empty), GFSB_OK);
	assert_int_equal(gfsb_gfs_lock_dates(empty, items, n, dec, &t, 0,
	    until), GFSB_EINVAL);
	assert_int_equal(gfsb_gfs_lock_dates(p, items, 0, dec, &t, 0, until),
	    GFSB_OK);
	assert_int_equal(until[0], 42);
	/* Margin 0 and the largest margin are both fine. */
	assert_int_equal(gfsb_gfs_lock_dates(p, items, n, dec, &t, 0, until),
	    GFSB_OK);
	assert_int_equal(until[0], secs("2026-06-04 00:00:00"));
	assert_int_equal(gfsb_gfs_lock_dates(p, items, n, dec, &t,
	    GFSB_GFS_MARGIN_MAX, until), GFSB_OK);
	assert_int_equal(until[0], secs("2026-06-04 00:00:00") +
	    GFSB_GFS_MARGIN_MAX);
	gfsb_gfs_policy_free(empty);
	gfsb_gfs_policy_free(p);
}

/* A daily horizon across a 23-hour and a 25-hour day ends exactly at
 * local midnight, and the policy drops the snapshot exactly then. */
static void
daily_dst(const char *zone, const char *snap, const char *now_s,
    const char *mid, const char *end, const char *just_before)
{
	struct gfsb_policy *p = policy("keep-daily", "2", NULL, NULL);

	tz(zone);
	reset();
	add(snap);
	lock_at(p, now_s);
	expect_until(snap, end);
	add(mid); /* the day between */
	assert_true(kept_with(p, snap, secs(just_before)));
	assert_false(kept_with(p, snap, secs(end)));
	gfsb_gfs_policy_free(p);
}

static void
test_lock_daily_dst(void **state)
{
	(void)state;
	/* Berlin: 2026-03-29 has 23 hours, 2026-10-25 has 25. */
	daily_dst("Europe/Berlin", "2026-03-28 01:30:00",
	    "2026-03-28 01:30:01", "2026-03-29 12:00:00",
	    "2026-03-30 00:00:00", "2026-03-29 23:59:59");
	assert_int_equal(until_of("2026-03-28 01:30:00") - MARGIN -
	    secs("2026-03-28 00:00:00"), 47 * 3600);
	daily_dst("Europe/Berlin", "2026-10-24 01:30:00",
	    "2026-10-24 01:30:01", "2026-10-25 12:00:00",
	    "2026-10-26 00:00:00", "2026-10-25 23:59:59");
	assert_int_equal(until_of("2026-10-24 01:30:00") - MARGIN -
	    secs("2026-10-24 00:00:00"), 49 * 3600);
	/* New York: 2026-03-08 and 2026-11-01. */
	daily_dst("America/New_York", "2026-03-07 01:30:00",
	    "2026-03-07 01:30:01", "2026-03-08 12:00:00",
	    "2026-03-09 00:00:00", "2026-03-08 23:59:59");
	daily_dst("America/New_York", "2026-10-31 01:30:00",
	    "2026-10-31 01:30:01", "2026-11-01 12:00:00",
	    "2026-11-02 00:00:00", "2026-11-01 23:59:59");
	/* The snapshot taken on the short day itself. */
	daily_dst("Europe/Berlin", "2026-03-29 03:30:00",
	    "2026-03-29 03:30:01", "2026-03-30 12:00:00",
	    "2026-03-31 00:00:00", "2026-03-30 23:59:59");
}

/* Hours: a skipped hour is no period, a repeated hour one period. */
static void
test_lock_hourly_dst(void **state)
{
	struct gfsb_policy *p = policy("keep-hourly", "3", NULL, NULL);
	int64_t s;

	(void)state;
	tz("Europe/Berlin");
	reset();
	add("2026-03-29 01:10:00"); /* CET; 02:00 becomes 03:00 CEST */
	lock_at(p, "2026-03-29 01:10:01");
	/* Three newer hours: 03, 04 and 05. */
	expect_until("2026-03-29 01:10:00", "2026-03-29 05:00:00");
	add("2026-03-29 03:10:00");
	add("2026-03-29 04:10:00");
	assert_true(kept_with(p, "2026-03-29 01:10:00",
	    secs("2026-03-29 04:59:59")));
	assert_false(kept_with(p, "2026-03-29 01:10:00",
	    secs("2026-03-29 05:00:00")));
	/* Autumn: 02:00-02:59 comes twice and is one period, so three newer
	 * hours after 01:10 CEST end at 04:00 CET, four real hours on. */
	reset();
	add("2026-10-25 01:10:00");
	lock_at(p, "2026-10-25 01:10:01");
	expect_until("2026-10-25 01:10:00", "2026-10-25 04:00:00");
	assert_int_equal(until_of("2026-10-25 01:10:00") - MARGIN,
	    secs("2026-10-25 01:00:00") + 4 * 3600);
	s = secs("2026-10-25 01:10:00");
	items[n].time.sec = s + 3600;	 /* 02:10 CEST */
	items[n++].ntags = 0;
	items[n].time.sec = s + 2 * 3600; /* 02:10 CET */
	items[n++].ntags = 0;
	add("2026-10-25 03:10:00");
	assert_true(kept_with(p, "2026-10-25 01:10:00",
	    secs("2026-10-25 03:59:59")));
	assert_false(kept_with(p, "2026-10-25 01:10:00",
	    secs("2026-10-25 04:00:00")));
	/* The lock of a snapshot in the repeated hour starts from its first
	 * occurrence: 02:30 CET with two newer hours ends at 04:00 CET. */
	gfsb_gfs_policy_free(p);
	p = policy("keep-hourly", "2", NULL, NULL);
	reset();
	items[0].time.sec = s + 2 * 3600 + 20 * 60; /* 02:30 CET */
	items[0].ntags = 0;
	n = 1;
	{
		/* Not lock_at(): mktime may read 02:30 either way. */
		struct gfsb_time t = { items[0].time.sec + 1, 0 };

		assert_int_equal(gfsb_gfs_apply(p, items, n, &t, dec),
		    GFSB_OK);
		assert_int_equal(gfsb_gfs_lock_dates(p, items, n, dec, &t,
		    MARGIN, until), GFSB_OK);
	}
	assert_int_equal(until[0] - MARGIN, secs("2026-10-25 04:00:00"));
	gfsb_gfs_policy_free(p);
	/* New York, 2026-11-01: 01:00-01:59 twice. */
	tz("America/New_York");
	p = policy("keep-hourly", "2", NULL, NULL);
	reset();
	add("2026-11-01 00:10:00");
	lock_at(p, "2026-11-01 00:10:01");
	expect_until("2026-11-01 00:10:00", "2026-11-01 02:00:00");
	assert_int_equal(until[0] - MARGIN - secs("2026-11-01 00:00:00"),
	    3 * 3600);
	gfsb_gfs_policy_free(p);
}

/* ISO weeks (53-week years), month ends, leap days, year ends. */
static void
test_lock_calendar(void **state)
{
	struct gfsb_policy *p;

	(void)state;
	tz("Europe/Berlin");
	/* Weekly as the son: a Thursday of 2026-W53 is locked as the week's
	 * father it will be, until two newer weeks can exist. */
	p = policy("keep-weekly", "2", NULL, NULL);
	reset();
	add("2026-12-20 01:30:00"); /* W51 */
	add("2026-12-31 01:30:00");
	lock_at(p, "2026-12-31 01:30:01");
	expect_until("2026-12-31 01:30:00", "2027-01-11 00:00:00");
	expect_until("2026-12-20 01:30:00", "2027-01-04 00:00:00");
	/* A later snapshot of the same week supersedes it, before that
	 * date: the price of locking the son as soon as it is taken. */
	add("2027-01-03 01:30:00");
	lock_at(p, "2027-01-03 01:30:01");
	expect_until("2026-12-31 01:30:00", NULL);
	expect_until("2027-01-03 01:30:00", "2027-01-11 00:00:00");
	gfsb_gfs_policy_free(p);
	/* Weekly promoted once 2020-W53 closes: start(W53 + 2). */
	p = policy("keep-weekly", "2", "keep-daily", "1");
	reset();
	add("2020-12-20 01:30:00");
	add("2020-12-31 01:30:00");
	add("2021-01-03 01:30:00"); /* Sunday, still 2020-W53 */
	lock_at(p, "2021-01-03 01:30:01");
	/* The week is open: the weekly role is provisional, the daily
	 * (son) role holds it until the next day. */
	expect_until("2021-01-03 01:30:00", "2021-01-04 00:00:00");
	expect_until("2020-12-31 01:30:00", NULL);
	add("2021-01-04 01:30:00");
	lock_at(p, "2021-01-04 01:30:01");
	expect_until("2021-01-03 01:30:00", "2021-01-11 00:00:00");
	assert_true(kept_with(p, "2021-01-03 01:30:00",
	    secs("2021-01-10 23:59:59")));
	assert_false(kept_with(p, "2021-01-03 01:30:00",
	    secs("2021-01-11 00:00:00")));
	gfsb_gfs_policy_free(p);
	/* Month ends: January 31 promoted on February 1 until March 1;
	 * February 29 of a leap year until April 1. */
	p = policy("keep-monthly", "2", "keep-daily", "1");
	reset();
	add("2026-01-31 01:30:00");
	lock_at(p, "2026-01-31 01:30:01");
	expect_until("2026-01-31 01:30:00", "2026-02-01 00:00:00");
	add("2026-02-01 01:30:00");
	lock_at(p, "2026-02-01 01:30:01");
	expect_until("2026-01-31 01:30:00", "2026-03-01 00:00:00");
	reset();
	add("2028-02-29 01:30:00");
	add("2028-03-01 01:30:00");
	lock_at(p, "2028-03-01 01:30:01");
	expect_until("2028-02-29 01:30:00", "2028-04-01 00:00:00");
	assert_true(kept_with(p, "2028-02-29 01:30:00",
	    secs("2028-03-31 23:59:59")));
	assert_false(kept_with(p, "2028-02-29 01:30:00",
	    secs("2028-04-01 00:00:00")));
	gfsb_gfs_policy_free(p);
	/* Year ends, in local time: 23:30 on December 31 is still 2026. */
	p = policy("keep-yearly", "3", "keep-daily", "1");
	reset();
	add("2026-12-31 23:30:00");
	add("2027-01-01 00:30:00");
	lock_at(p, "2027-01-01 00:30:01");
	expect_until("2026-12-31 23:30:00", "2029-01-01 00:00:00");
	expect_until("2027-01-01 00:30:00", "2027-01-02 00:00:00");
	gfsb_gfs_policy_free(p);
}

/* keep-within: the first moment a newest snapshot puts it outside the
 * window, checked against gfsb_gfs_apply itself. */
static void
within_check(struct gfsb_policy *p, const char *snap, const char *end)
{
	char buf[32];
	struct gfsb_time t;
	int64_t e, k;

	reset();
	add(snap);
	t = at(snap);
	t.sec++;
	gfsb_time_format_local(&t, buf, sizeof(buf));
	lock_at(p, buf);
	e = until[0] - MARGIN;
	if (end != NULL)
		expect_until(snap, end);
	if (kept_with(p, snap, e - 1) != 1 || kept_with(p, snap, e) != 0)
		fail_msg("%s: keep-within does not drop it exactly at the "
		    "lock date", snap);
	/* And not at any earlier time either (cutoff() is not monotone,
	 * so look back a week, every 20 minutes). */
	for (k = 1; k < 7 * 72; k++)
		if (!kept_with(p, snap, e - k * 1200))
			fail_msg("%s: dropped %lld s before its lock date",
			    snap, (long long)(k * 1200));
}

static void
test_lock_within(void **state)
{
	static const char *durs[] = { "3d", "36h", "1m", "1m2d", "1y",
		"1y1m", "2m12h", NULL };
	struct gfsb_policy *p;
	char buf[32];
	size_t i;
	int d;

	(void)state;
	tz("UTC");
	p = policy("keep-within", "3d", NULL, NULL);
	within_check(p, "2026-06-01 01:30:00", "2026-06-04 01:30:00");
	/* Only within: every snapshot newer than newest - 3d is kept. */
	reset();
	add("2026-06-01 01:30:00");
	add("2026-06-02 01:30:00");
	add("2026-06-04 01:30:00");
	lock_at(p, "2026-06-04 01:30:01");
	expect_until("2026-06-04 01:30:00", "2026-06-07 01:30:00");
	expect_until("2026-06-02 01:30:00", "2026-06-05 01:30:00");
	expect_until("2026-06-01 01:30:00", NULL);
	gfsb_gfs_policy_free(p);
	/* January 30 plus a month is not the end: March 1 minus a month
	 * is February 1, so a snapshot at March 1 00:00 drops it already. */
	p = policy("keep-within", "1m", NULL, NULL);
	within_check(p, "2026-01-30 01:30:00", "2026-03-01 00:00:00");
	within_check(p, "2026-01-31 12:00:00", "2026-03-01 00:00:00");
	within_check(p, "2026-03-02 12:00:00", "2026-03-30 12:00:00");
	gfsb_gfs_policy_free(p);
	p = policy("keep-within", "1y", NULL, NULL);
	within_check(p, "2028-02-29 12:00:00", "2029-03-01 00:00:00");
	gfsb_gfs_policy_free(p);
	/* Every day around month ends, leap days and DST changes, several
	 * durations: always the exact first moment. */
	tz("Europe/Berlin");
	for (i = 0; durs[i] != NULL; i++) {
		p = policy("keep-within", durs[i], NULL, NULL);
		for (d = 0; d < 12; d++) {
			snprintf(buf, sizeof(buf), "2028-01-%02d 12:00:00",
			    20 + d);
			within_check(p, buf, NULL);
			snprintf(buf, sizeof(buf), "2028-02-%02d 02:30:00",
			    18 + d % 12);
			within_check(p, buf, NULL);
			/* 2027-03-28 has no 02:30. */
			snprintf(buf, sizeof(buf), "2027-03-%02d %s",
			    20 + d, d == 8 ? "03:30:00" : "02:30:00");
			within_check(p, buf, NULL);
		}
		gfsb_gfs_policy_free(p);
	}
}

static void
test_lock_last_tag(void **state)
{
	char *hold[] = { "hold" };
	struct gfsb_policy *p;
	struct gfsb_time t;

	(void)state;
	tz("UTC");
	/* keep-last: N newer snapshots can come at once. */
	p = policy("keep-last", "2", NULL, NULL);
	reset();
	add("2026-06-01 01:30:00");
	add("2026-06-02 01:30:00");
	add("2026-06-03 01:30:00");
	lock_at(p, "2026-06-03 01:30:01");
	expect_until("2026-06-03 01:30:00", "2026-06-03 01:30:01");
	expect_until("2026-06-02 01:30:00", "2026-06-03 01:30:01");
	expect_until("2026-06-01 01:30:00", NULL);
	gfsb_gfs_policy_free(p);
	/* keep-tag: as long as the policy's longest lock, whatever its
	 * age: here seven days from today. */
	p = policy("keep-tag", "hold", "keep-daily", "7");
	reset();
	add("2025-01-01 01:30:00");
	items[0].tags = hold;
	items[0].ntags = 1;
	add("2026-06-03 01:30:00");
	lock_at(p, "2026-06-03 01:30:01");
	expect_until("2025-01-01 01:30:00", "2026-06-10 00:00:00");
	t = at("2026-06-03 01:30:01");
	assert_int_equal(until_of("2025-01-01 01:30:00"),
	    gfsb_gfs_lock_longest(p, &t, MARGIN));
	gfsb_gfs_policy_free(p);
}

static void
test_lock_longest(void **state)
{
	struct gfsb_policy *p;
	struct gfsb_time t;

	(void)state;
	tz("Europe/Berlin");
	t = at("2026-06-10 01:30:01");
	p = policy_text("keep-daily=7;keep-weekly=4;keep-monthly=12;"
	    "keep-yearly=7");
	assert_int_equal(gfsb_gfs_lock_longest(p, &t, MARGIN),
	    secs("2033-01-01 00:00:00") + MARGIN);
	gfsb_gfs_policy_free(p);
	/* minimal: the month (July 1) beats two weeks (June 22) and three
	 * days (June 13). */
	p = policy_text("keep-daily=3;keep-weekly=2;keep-monthly=1");
	assert_int_equal(gfsb_gfs_lock_longest(p, &t, 0),
	    secs("2026-07-01 00:00:00"));
	gfsb_gfs_policy_free(p);
	p = policy_text("keep-daily=3;keep-weekly=3");
	assert_int_equal(gfsb_gfs_lock_longest(p, &t, 0),
	    secs("2026-06-29 00:00:00"));
	gfsb_gfs_policy_free(p);
	/* 48 hours from 12:xx on March 28 end at 12:00 on March 30 on the
	 * calendar, but March 29 has no 02:00 hour: 13:00. */
	p = policy("keep-hourly", "48", NULL, NULL);
	t = at("2026-03-28 12:30:00");
	assert_int_equal(gfsb_gfs_lock_longest(p, &t, 0),
	    secs("2026-03-30 13:00:00"));
	gfsb_gfs_policy_free(p);
	p = policy("keep-within", "1y", "keep-last", "3");
	assert_int_equal(gfsb_gfs_lock_longest(p, &t, 60),
	    secs("2027-03-28 12:30:00") + 60);
	gfsb_gfs_policy_free(p);
	p = policy("keep-last", "3", NULL, NULL);
	assert_int_equal(gfsb_gfs_lock_longest(p, &t, 60), t.sec + 60);
	gfsb_gfs_policy_free(p);
}

/* A young repository: fewer periods than the counts, so the oldest
 * snapshot is kept by the "oldest" rule. */
static void
test_lock_oldest(void **state)
{
	struct gfsb_policy *p;
	char buf[32];
	int d;

	(void)state;
	tz("Europe/Berlin");
	p = policy_text("keep-daily=7;keep-weekly=4;keep-monthly=12;"
	    "keep-yearly=7");
	reset();
	add("2026-06-01 01:30:00");
	add("2026-06-02 01:30:00");
	add("2026-06-03 01:30:00");
	lock_at(p, "2026-06-03 01:30:01");
	expect("2026-06-01 01:30:00", 1, "oldest weekly snapshot");
	/* Dailies: seven newer days; the open week, month and year roles
	 * (the oldest ones too) wait for their promotion. */
	expect_until("2026-06-03 01:30:00", "2026-06-10 00:00:00");
	expect_until("2026-06-02 01:30:00", "2026-06-09 00:00:00");
	expect_until("2026-06-01 01:30:00", "2026-06-08 00:00:00");
	for (d = 4; d <= 30; d++) {
		snprintf(buf, sizeof(buf), "2026-06-%02d 01:30:00", d);
		add(buf);
	}
	add("2026-07-01 01:30:00");
	lock_at(p, "2026-07-01 01:30:01");
	/* June closed: its newest is monthly until 12 months on; the oldest
	 * used one more of the count, so one month less.  The weeks of
	 * June 7, 14 and 21 are kept for four weeks from their own. */
	expect("2026-06-01 01:30:00", 1, "oldest monthly snapshot");
	expect_until("2026-06-30 01:30:00", "2027-06-01 00:00:00");
	expect_until("2026-06-01 01:30:00", "2027-05-01 00:00:00");
	expect_until("2026-06-28 01:30:00", "2026-07-20 00:00:00");
	expect_until("2026-06-21 01:30:00", "2026-07-13 00:00:00");
	/* Check the oldest one's monthly date with the policy: one
	 * snapshot in each of the nine months from August to April leaves
	 * it monthly, one more in May ends that (it stays the oldest
	 * yearly). */
	for (d = 0; d < 9; d++) {
		struct gfsb_time t = at("2026-08-01 01:30:00");
		struct tm tm;
		time_t tt = (time_t)t.sec;

		localtime_r(&tt, &tm);
		tm.tm_mon += d;
		tm.tm_isdst = -1;
		t.sec = mktime(&tm);
		gfsb_time_format_local(&t, buf, sizeof(buf));
		add(buf);
	}
	assert_true(roles_with(p, "2026-06-01 01:30:00",
	    secs("2027-04-30 23:59:59")) & GFSB_ROLE_MONTHLY);
	assert_false(roles_with(p, "2026-06-01 01:30:00",
	    secs("2027-05-01 00:00:00")) & GFSB_ROLE_MONTHLY);
	gfsb_gfs_policy_free(p);
}

/* A snapshot from the future (clock error) is measured from its own
 * time; the others as if it were not ahead of them. */
static void
test_lock_future(void **state)
{
	struct gfsb_policy *p = policy("keep-daily", "3", NULL, NULL);

	(void)state;
	tz("UTC");
	reset();
	add("2026-06-01 01:30:00");
	add("2026-06-02 01:30:00");
	add("2099-01-01 01:30:00");
	lock_at(p, "2026-06-02 01:30:01");
	expect_until("2099-01-01 01:30:00", "2099-01-04 00:00:00");
	expect_until("2026-06-02 01:30:00", "2026-06-04 00:00:00");
	expect_until("2026-06-01 01:30:00", "2026-06-03 00:00:00");
	assert_true(kept_with(p, "2026-06-01 01:30:00",
	    secs("2026-06-02 23:59:59")));
	assert_false(kept_with(p, "2026-06-01 01:30:00",
	    secs("2026-06-03 00:00:00")));
	gfsb_gfs_policy_free(p);
	/* Every item in the future: none is before now. */
	p = policy("keep-within", "3d", "keep-weekly", "2");
	reset();
	add("2099-01-01 01:30:00");
	lock_at(p, "2026-06-02 01:30:01");
	expect_until("2099-01-01 01:30:00", "2099-01-12 00:00:00");
	gfsb_gfs_policy_free(p);
}

/* A run without a backup of its own (the backup failed, forget ran):
 * today's period holds nothing yet, so a snapshot today already counts
 * as a new day. */
static void
test_lock_no_backup_today(void **state)
{
	struct gfsb_policy *p = policy("keep-daily", "3", NULL, NULL);

	(void)state;
	tz("Europe/Berlin");
	reset();
	add("2026-06-01 01:30:00");
	add("2026-06-02 01:30:00");
	lock_at(p, "2026-06-04 12:00:00");
	/* Two more days after June 2: today and tomorrow. */
	expect_until("2026-06-02 01:30:00", "2026-06-06 00:00:00");
	expect_until("2026-06-01 01:30:00", "2026-06-05 00:00:00");
	add("2026-06-04 13:00:00");
	assert_true(kept_with(p, "2026-06-01 01:30:00",
	    secs("2026-06-04 23:59:59")));
	assert_false(kept_with(p, "2026-06-01 01:30:00",
	    secs("2026-06-05 00:00:00")));
	add("2026-06-05 13:00:00");
	assert_true(kept_with(p, "2026-06-02 01:30:00",
	    secs("2026-06-05 23:59:59")));
	assert_false(kept_with(p, "2026-06-02 01:30:00",
	    secs("2026-06-06 00:00:00")));
	gfsb_gfs_policy_free(p);
}

/* Where local midnight does not exist (Havana moves 00:00 to 01:00),
 * a day starts at its first instant. */
static void
test_lock_missing_midnight(void **state)
{
	struct gfsb_policy *p = policy("keep-daily", "1", NULL, NULL);

	(void)state;
	tz("America/Havana");
	reset();
	add("2026-03-07 12:00:00");
	lock_at(p, "2026-03-07 12:00:01");
	expect_until("2026-03-07 12:00:00", "2026-03-08 01:00:00");
	assert_int_equal(until[0] - MARGIN - secs("2026-03-07 23:00:00"),
	    3600);
	gfsb_gfs_policy_free(p);
}

/* keep-within when the window's start falls in a repeated hour: mktime
 * may read it either way (glibc's pick depends on its earlier calls),
 * so the date is the earlier of the two possible drops. */
static void
test_lock_within_repeated_hour(void **state)
{
	struct gfsb_policy *p = policy("keep-within", "1y", NULL, NULL);
	struct gfsb_time t;

	(void)state;
	tz("America/New_York");
	reset();
	/* 2027-11-07 01:44 EDT, the first of two 01:44s. */
	items[0].time.sec = secs("2027-11-07 00:44:00") + 3600;
	items[0].ntags = 0;
	n = 1;
	t.sec = items[0].time.sec + 1;
	t.nsec = 0;
	assert_int_equal(gfsb_gfs_apply(p, items, n, &t, dec), GFSB_OK);
	assert_int_equal(gfsb_gfs_lock_dates(p, items, n, dec, &t, MARGIN,
	    until), GFSB_OK);
	/* 2028-11-07 01:00 minus a year may be 01:00 EST, after it. */
	assert_int_equal(until[0] - MARGIN, secs("2028-11-07 01:00:00"));
	/* A second earlier, the window starts before it on any reading. */
	items[1].time.sec = secs("2028-11-07 00:59:59");
	items[1].ntags = 0;
	n = 2;
	t.sec = items[1].time.sec + 1;
	assert_int_equal(gfsb_gfs_apply(p, items, n, &t, dec), GFSB_OK);
	assert_true(dec[0].keep);
	gfsb_gfs_policy_free(p);
}

/*
 * Nightly runs, simulated: a backup, then the policy and the lock dates,
 * what the policy drops forgotten (as gfsb_gfs_simulate does), and the
 * lock dates checked against the rules every run.
 */
struct simopt {
	const char *zone;
	const char *first;  /* first backup, local time */
	int runs;	    /* backups, each followed by a run */
	int hourly;	    /* one an hour instead of one a night */
	int gaps;	    /* skip 0-4 nights after each: gaps of 1-5 days */
	int twice;	    /* a second backup at 13:30 on some days */
	int tag_every;	    /* tag every k-th with "legal-hold" */
	unsigned seed;
};

struct simres {
	int drops;	  /* snapshots the policy dropped */
	int superseded;	  /* ... before their date: a son superseded */
	int nonmono;	  /* a date lower than the run before ... */
	int nonmono_sup;  /* ... of a son superseded in its period */
	int unprotected;  /* kept, but its last date passed before the run */
	int checks[GFSB_RULE_COUNT + 1]; /* exact checks per settled role;
				     [COUNT]: of snapshots only daily */
	char first_nonmono[256];
};

struct snapmeta {
	int64_t max_until, last_until;
};

static struct snapmeta meta[MAXN];

static const char *const role_name[GFSB_RULE_COUNT] = { "last", "hourly",
	"daily", "weekly", "monthly", "yearly" };

/* The test's own period arithmetic: local midnight of the first day of
 * the period k after that of t. */
static int64_t
tstart(enum gfsb_gfs_rule r, int64_t t, int k)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[64];

	localtime_r(&tt, &tm);
	if (r == GFSB_RULE_DAILY) {
		tm.tm_mday += k;
	} else if (r == GFSB_RULE_WEEKLY) {
		tm.tm_mday += 7 * k - (tm.tm_wday + 6) % 7;
	} else if (r == GFSB_RULE_MONTHLY) {
		tm.tm_mday = 1;
		tm.tm_mon += k;
	} else {
		tm.tm_mday = 1;
		tm.tm_mon = 0;
		tm.tm_year += k;
	}
	tm.tm_hour = 12;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	assert_true(mktime(&tm) != (time_t)-1);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d 00:00:00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return secs(buf);
}

static long
tper(enum gfsb_gfs_rule r, int64_t t)
{
	struct gfsb_time x = { t, 0 };

	return gfsb_gfs_period(r, &x);
}

/* The start of the k-th hour after t's that can hold a snapshot, by
 * walking real hours (whole-hour zones): a repeated hour counts once. */
static int64_t
thour(int64_t t, int k)
{
	int64_t s = t - (t % 3600 + 3600) % 3600;

	while (tper(GFSB_RULE_HOURLY, s - 3600) == tper(GFSB_RULE_HOURLY, s))
		s -= 3600;
	while (k > 0) {
		s += 3600;
		if (tper(GFSB_RULE_HOURLY, s) != tper(GFSB_RULE_HOURLY,
		    s - 3600))
			k--;
	}
	return s;
}

/* What the rules say item i's date must be when every period between it
 * and now holds a snapshot (a lower bound otherwise): for each role that
 * is settled (its period closed) or the son's, the start of the period N
 * after its own (N - 1 for the "oldest" rule, which used one more). */
static int64_t
oracle(const struct gfsb_policy *p, int son, size_t i,
    const struct gfsb_time *t, int *closed)
{
	const struct gfsb_gfs_decision *d = &dec[i];
	int64_t e = t->sec, x, s = items[i].time.sec;
	char reason[48];
	int r, k;

	*closed = 0;
	for (r = GFSB_RULE_HOURLY; r < GFSB_RULE_COUNT; r++) {
		if (!(d->roles & (1u << r)))
			continue;
		if (r != son && tper((enum gfsb_gfs_rule)r, s) ==
		    tper((enum gfsb_gfs_rule)r, t->sec))
			continue; /* provisional */
		snprintf(reason, sizeof(reason), "oldest %s snapshot",
		    role_name[r]);
		k = p->keep[r] - has_reason(d, reason);
		x = r == GFSB_RULE_HOURLY ? thour(s, k) :
		    tstart((enum gfsb_gfs_rule)r, s, k);
		if (x > e)
			e = x;
		*closed |= 1 << r;
	}
	if (d->roles & GFSB_ROLE_TAG) {
		x = gfsb_gfs_lock_longest(p, t, 0);
		if (x > e)
			e = x;
	}
	return e + MARGIN;
}

/* Has a later snapshot of item i's son period taken its son role? */
static int
superseded(int son, size_t i)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (gfsb_time_cmp(&items[j].time, &items[i].time) > 0 &&
		    tper((enum gfsb_gfs_rule)son, items[j].time.sec) ==
		    tper((enum gfsb_gfs_rule)son, items[i].time.sec))
			return 1;
	return 0;
}

/* The checks after one run at t. */
static void
sim_check(const struct gfsb_policy *p, const struct simopt *o, int son,
    const struct gfsb_time *t, struct simres *res)
{
	struct snapmeta *m;
	char a[32], b[32];
	int64_t want, u;
	size_t i, k;
	int closed, r;

	for (i = 0; i < n; i++) {
		m = &meta[i];
		gfsb_time_format_local(&items[i].time, a, sizeof(a));
		if (!dec[i].keep) {
			res->drops++;
			if (m->max_until == 0 || t->sec >= m->max_until - MARGIN)
				continue;
			/* Dropped before a date it was given: only a son that
			 * a later snapshot of its own period superseded. */
			if (!superseded(son, i))
				fail_msg("%s: dropped %lld s before its date",
				    a, (long long)(m->max_until - MARGIN -
				    t->sec));
			res->superseded++;
			continue;
		}
		u = until[i];
		if (u < t->sec + MARGIN)
			fail_msg("%s: date before now + margin", a);
		if (m->last_until != 0 && u < m->last_until &&
		    superseded(son, i)) {
			res->nonmono_sup++;
		} else if (m->last_until != 0 && u < m->last_until &&
		    res->nonmono++ == 0) {
			struct gfsb_time x = { m->last_until - MARGIN, 0 };

			gfsb_time_format_local(&x, b, sizeof(b));
			snprintf(res->first_nonmono,
			    sizeof(res->first_nonmono), "%s: %s lowered "
			    "by %lld s (roles %#x)", a, b,
			    (long long)(m->last_until - u), dec[i].roles);
		}
		if (m->last_until != 0 && m->last_until < t->sec)
			res->unprotected++;
		want = oracle(p, son, i, t, &closed);
		if (o->gaps ? u < want : u != want) {
			struct gfsb_time x = { u - MARGIN, 0 }, y = { want -
			    MARGIN, 0 };
			char c[32];

			gfsb_time_format_local(&x, c, sizeof(c));
			gfsb_time_format_local(&y, b, sizeof(b));
			fail_msg("%s (roles %#x): until %s + margin, the rules "
			    "say %s%s", a, dec[i].roles, c,
			    o->gaps ? ">= " : "", b);
		}
		for (r = 0; r < GFSB_RULE_COUNT; r++)
			if ((closed & (1 << r)) && r != son)
				res->checks[r]++;
		if (dec[i].roles == GFSB_ROLE_DAILY)
			res->checks[GFSB_RULE_COUNT]++;
		m->last_until = u;
		if (u > m->max_until)
			m->max_until = u;
	}
	/* Forget what the policy dropped. */
	for (i = k = 0; i < n; i++) {
		if (!dec[i].keep)
			continue;
		items[k] = items[i];
		meta[k] = meta[i];
		k++;
	}
	n = k;
}

static void
sim_run(const struct gfsb_policy *p, const struct simopt *o,
    struct simres *res)
{
	static char *legal[] = { "legal-hold" };
	struct gfsb_time first, t, run_at;
	struct tm tm;
	time_t tt;
	unsigned rnd = o->seed;
	int runs = 0, day = 0, second = 0, son;

	tz(o->zone);
	memset(res, 0, sizeof(*res));
	for (son = GFSB_RULE_HOURLY; p->keep[son] == 0; son++)
		;
	first = at(o->first);
	reset();
	while (runs < o->runs) {
		if (o->hourly) {
			t.sec = first.sec + (int64_t)runs * 3600;
		} else {
			tt = (time_t)first.sec;
			localtime_r(&tt, &tm);
			tm.tm_mday += day;
			tm.tm_hour += second ? 12 : 0;
			tm.tm_isdst = -1;
			t.sec = mktime(&tm);
		}
		t.nsec = 0;
		assert_true(n < MAXN);
		memset(&items[n], 0, sizeof(items[n]));
		memset(&meta[n], 0, sizeof(meta[n]));
		items[n].time = t;
		if (o->tag_every && runs % o->tag_every == o->tag_every - 1) {
			items[n].tags = legal;
			items[n].ntags = 1;
		}
		n++;
		runs++;
		run_at = t;
		run_at.sec++;
		assert_int_equal(gfsb_gfs_apply(p, items, n, &run_at, dec),
		    GFSB_OK);
		assert_int_equal(gfsb_gfs_lock_dates(p, items, n, dec,
		    &run_at, MARGIN, until), GFSB_OK);
		sim_check(p, o, son, &run_at, res);
		rnd = rnd * 1103515245u + 12345u;
		if (!second && o->twice && (rnd >> 16) % 5 == 0) {
			second = 1;
			continue;
		}
		second = 0;
		day += 1 + (o->gaps ? (int)((rnd >> 8) % 5) : 0);
	}
}

static struct gfsb_policy *
shipped(const char *name)
{
	struct gfsb_policy *p;
	struct gfsb_ctx *ctx;
	char path[512];

	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	snprintf(path, sizeof(path), "%s/schedules/%s.policy",
	    GFSB_SOURCE_DIR, name);
	if (gfsb_gfs_policy_load(ctx, path, &p) != GFSB_OK)
		fail_msg("%s: %s", path, gfsb_ctx_errmsg(ctx));
	gfsb_ctx_free(ctx);
	return p;
}

/* The shipped policies over 500 nights (two year ends, ISO week 53 of
 * 2026, four DST changes), plain, with gaps, and with two backups on
 * some days: dates match the rules exactly when every night has a
 * backup (at least that otherwise), only grow while a snapshot is kept,
 * always cover the next run, and the policy never drops a snapshot
 * before a date it was given, except a first backup of a day that the
 * second one supersedes. */
static void
test_lock_simulation(void **state)
{
	static const char *names[] = { "standard", "minimal",
		"compliance-10y" };
	struct simopt o;
	struct simres res;
	struct gfsb_policy *p;
	size_t i;
	int v, r;

	(void)state;
	for (i = 0; i < 3; i++) {
		p = shipped(names[i]);
		for (v = 0; v < 4; v++) {
			memset(&o, 0, sizeof(o));
			o.zone = v == 3 ? "America/New_York" :
			    "Europe/Berlin";
			o.first = "2025-11-01 01:30:00";
			o.runs = 500;
			o.gaps = v == 1;
			o.twice = v == 2;
			o.tag_every = i == 2 ? 97 : 0;
			o.seed = (unsigned)(i * 10 + v + 1);
			sim_run(p, &o, &res);
			if (res.nonmono != 0)
				fail_msg("%s/%d: %d dates lowered, first %s",
				    names[i], v, res.nonmono,
				    res.first_nonmono);
			assert_true(res.drops > 0);
			/* Each variant saw every kind of settled role (with
			 * a count of 1, as minimal's keep-monthly, the role
			 * is only ever the newest snapshot's: never settled). */
			for (r = GFSB_RULE_WEEKLY; r < GFSB_RULE_COUNT; r++)
				if (p->keep[r] > 1 && res.checks[r] == 0)
					fail_msg("%s/%d: no settled %s role",
					    names[i], v, role_name[r]);
			assert_true(res.checks[GFSB_RULE_COUNT] > 0);
			if (v == 2) {
				assert_true(res.superseded > 0);
			} else {
				assert_int_equal(res.superseded, 0);
				assert_int_equal(res.nonmono_sup, 0);
			}
			if (!o.gaps)
				assert_int_equal(res.unprotected, 0);
		}
		gfsb_gfs_policy_free(p);
	}
}

/* Hourly backups with keep-hourly as the son, across both DST changes:
 * in autumn the first 02:xx snapshot is superseded by the second. */
static void
test_lock_simulation_hourly(void **state)
{
	struct gfsb_policy *p = policy("keep-hourly", "24", "keep-daily",
	    "7");
	struct simopt o;
	struct simres res;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.zone = "Europe/Berlin";
	o.first = "2026-03-20 00:10:00";
	o.runs = 24 * 20;
	o.hourly = 1;
	sim_run(p, &o, &res);
	assert_int_equal(res.nonmono, 0);
	assert_int_equal(res.superseded, 0);
	assert_int_equal(res.unprotected, 0);
	assert_true(res.checks[GFSB_RULE_DAILY] > 0);
	o.first = "2026-10-20 00:10:00";
	sim_run(p, &o, &res);
	assert_int_equal(res.nonmono, 0);
	assert_int_equal(res.superseded, 1);
	assert_int_equal(res.unprotected, 0);
	gfsb_gfs_policy_free(p);
}

/* docs/RETENTION.md's worked example: the standard policy, margin 2d,
 * one backup a night at 01:30 in Berlin; the retain-until dates (margin
 * included) a Tuesday, a Sunday, January 31 and December 31 get on the
 * night they are taken and on the next (when a closed week, month or
 * year promotes them). */
static void
test_lock_worked_example(void **state)
{
	static const struct {
		const char *snap, *night, *next;
	} want[] = {
		{ "2026-03-10 01:30:00", "2026-03-19 00:00:00",
		    "2026-03-19 00:00:00" },
		{ "2026-03-15 01:30:00", "2026-03-24 00:00:00",
		    "2026-04-08 00:00:00" },
		{ "2026-01-31 01:30:00", "2026-02-09 00:00:00",
		    "2027-01-03 00:00:00" },
		{ "2026-12-31 01:30:00", "2027-01-09 00:00:00",
		    "2033-01-03 00:00:00" },
	};
	struct gfsb_policy *p = shipped("standard");
	struct gfsb_time t;
	struct tm tm;
	time_t tt;
	int64_t got[4][2];
	size_t i, w;
	int day;

	(void)state;
	tz("Europe/Berlin");
	reset();
	memset(got, 0, sizeof(got));
	for (day = 0; day < 400; day++) {
		t = at("2025-12-01 01:30:00");
		tt = (time_t)t.sec;
		localtime_r(&tt, &tm);
		tm.tm_mday += day;
		tm.tm_isdst = -1;
		t.sec = mktime(&tm);
		memset(&items[n], 0, sizeof(items[n]));
		items[n++].time = t;
		t.sec++;
		assert_int_equal(gfsb_gfs_apply(p, items, n, &t, dec),
		    GFSB_OK);
		assert_int_equal(gfsb_gfs_lock_dates(p, items, n, dec, &t,
		    MARGIN, until), GFSB_OK);
		for (w = 0; w < 4; w++)
			for (i = 0; i < n; i++)
				if (items[i].time.sec == secs(want[w].snap) &&
				    got[w][1] == 0)
					got[w][got[w][0] != 0] = until[i];
		for (i = w = 0; i < n; i++)
			if (dec[i].keep)
				items[w++] = items[i];
		n = w;
	}
	for (w = 0; w < 4; w++) {
		assert_int_equal(got[w][0], secs(want[w].night));
		assert_int_equal(got[w][1], secs(want[w].next));
	}
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
		cmocka_unit_test(test_sim_days),
		cmocka_unit_test(test_lock_margin),
		cmocka_unit_test(test_lock_args),
		cmocka_unit_test(test_lock_daily_dst),
		cmocka_unit_test(test_lock_hourly_dst),
		cmocka_unit_test(test_lock_calendar),
		cmocka_unit_test(test_lock_within),
		cmocka_unit_test(test_lock_last_tag),
		cmocka_unit_test(test_lock_longest),
		cmocka_unit_test(test_lock_oldest),
		cmocka_unit_test(test_lock_future),
		cmocka_unit_test(test_lock_no_backup_today),
		cmocka_unit_test(test_lock_missing_midnight),
		cmocka_unit_test(test_lock_within_repeated_hour),
		cmocka_unit_test(test_lock_worked_example),
		cmocka_unit_test(test_lock_simulation),
		cmocka_unit_test(test_lock_simulation_hourly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
