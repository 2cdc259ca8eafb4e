/*
 * Object Lock dates: how long the offsite copy must keep each snapshot.
 *
 * A kept snapshot is locked until the earliest moment the policy could
 * drop it, plus a margin.  For each rule that keeps it we take the
 * earliest time some sequence of future snapshots (all taken at or after
 * now) could take that rule away, and lock until the latest of those:
 * keep-last can lose it at once, a count rule once enough newer periods
 * hold snapshots, keep-within once the newest snapshot is far enough past
 * it.  A role in a period that is still open, for a rule coarser than the
 * finest one (the son), is provisional: a later snapshot of the same
 * period takes it over.  Locking the newest snapshot for its open yearly
 * role would lock every snapshot for years (a flat lock), so such a role
 * counts for nothing until its period closes, and the first run after
 * that extends the lock of the snapshot that kept the role ("promotion").
 * The son is locked as the son it will be once its period ends.
 *
 * So dates only grow from one run to the next, and the policy never drops
 * a snapshot before a date it was given, except a son superseded by a
 * later snapshot of its own period (docs/RETENTION.md, "Object Lock
 * dates", states the rules and their limits).  Periods are local calendar
 * periods, as in gfs_retention.c; nothing here allocates more than the
 * group's size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gfsbackup/gfs.h>

#include "gfs_internal.h"

#define DAY 86400

static int
dur_set(const struct gfsb_duration *d)
{
	return d->years != 0 || d->months != 0 || d->days != 0 ||
	    d->hours != 0;
}

static long
per(enum gfsb_gfs_rule r, int64_t t)
{
	struct gfsb_time x;

	x.sec = t;
	x.nsec = 0;
	return gfsb_gfs_period(r, &x);
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* The first instant whose period for rule r is q or later, searched
 * within three hours of a guess from mktime.  mktime alone is not enough:
 * a local midnight does not exist where clocks go forward at 00:00, and
 * the fields of a repeated hour give its second occurrence, not the
 * first. */
static int64_t
first_at(enum gfsb_gfs_rule r, int64_t guess, long q)
{
	int64_t lo = guess - 3 * 3600, hi = guess + 3 * 3600, mid;

	if (per(r, guess) >= q && per(r, guess - 1) < q)
		return guess;
	if (per(r, lo) >= q || per(r, hi) < q)
		return guess;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (per(r, mid) >= q)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* The start of the period k after that of t, for the daily, weekly,
 * monthly and yearly rules: calendar arithmetic on the local date of the
 * period's first day (a Monday for ISO weeks, so 53-week years need no
 * care), normalised by mktime. */
static int64_t
start_plus(enum gfsb_gfs_rule r, int64_t t, long k)
{
	struct tm tm;
	time_t tt = (time_t)t;
	long q;

	localtime_r(&tt, &tm);
	switch (r) {
	case GFSB_RULE_DAILY:
		tm.tm_mday += (int)k;
		break;
	case GFSB_RULE_WEEKLY:
		tm.tm_mday += 7 * (int)k - (tm.tm_wday + 6) % 7;
		break;
	case GFSB_RULE_MONTHLY:
		tm.tm_mday = 1;
		tm.tm_mon += (int)k;
		break;
	default:
		tm.tm_mday = 1;
		tm.tm_mon = 0;
		tm.tm_year += (int)k;
		break;
	}
	/* Noon exists on every day; its period is the one wanted. */
	tm.tm_hour = 12;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	q = per(r, (int64_t)mktime(&tm));
	tm.tm_hour = 0;
	tm.tm_isdst = -1;
	return first_at(r, (int64_t)mktime(&tm), q);
}

/*
 * Hours are counted one by one: a repeated hour (clocks go back) is one
 * period of two real hours and a skipped hour no period at all, so no
 * field arithmetic gives the k-th next hour that can hold a snapshot.  A
 * cursor walks the starts of local hours; it moves both ways, so that
 * the snapshots of a group, visited in any order, cost one walk.
 */
struct hcur {
	int64_t s; /* start of the current hour */
	long k;	   /* hours past the first */
};

static void
hcur_init(struct hcur *c, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	localtime_r(&tt, &tm);
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	c->s = first_at(GFSB_RULE_HOURLY, (int64_t)mktime(&tm),
	    per(GFSB_RULE_HOURLY, t));
	c->k = 0;
}

static void
hcur_seek(struct hcur *c, long k)
{
	long ps, pc;
	int64_t x;

	for (; c->k < k; c->k++) {
		x = c->s + 3600;
		ps = per(GFSB_RULE_HOURLY, c->s);
		pc = per(GFSB_RULE_HOURLY, x);
		if (pc > ps && per(GFSB_RULE_HOURLY, x - 1) == ps)
			c->s = x;
		else
			c->s = first_at(GFSB_RULE_HOURLY, x, ps + 1);
	}
	for (; c->k > k; c->k--) {
		x = c->s - 3600;
		ps = per(GFSB_RULE_HOURLY, c->s - 1);
		if (per(GFSB_RULE_HOURLY, x) == ps &&
		    per(GFSB_RULE_HOURLY, x - 1) < ps)
			c->s = x;
		else
			c->s = first_at(GFSB_RULE_HOURLY, x, ps);
	}
}

/* gfs_cutoff(l, d), as late as it can come out.  Given a local time that
 * happens twice (clocks go back), mktime picks one, and glibc's pick
 * depends on its earlier calls; a lock must not end after the policy can
 * drop, so take the later one, the cutoff that drops most. */
static int64_t
cut_at(int64_t l, const struct gfsb_duration *d)
{
	struct gfsb_time t;
	struct tm a, b;
	time_t c, alt;

	t.sec = l;
	t.nsec = 0;
	t = gfs_cutoff(&t, d);
	c = (time_t)(t.sec + (int64_t)d->hours * 3600);
	alt = c + 3600;
	localtime_r(&c, &a);
	localtime_r(&alt, &b);
	if (a.tm_hour == b.tm_hour && a.tm_min == b.tm_min &&
	    a.tm_sec == b.tm_sec && a.tm_mday == b.tm_mday)
		return t.sec + 3600;
	return t.sec;
}

/* The least L in (lo, hi] with cutoff(L) >= s, given that cutoff(hi) >=
 * s and that cutoff is monotone there. */
static int64_t
first_cut(int64_t lo, int64_t hi, int64_t s, const struct gfsb_duration *d)
{
	int64_t mid;

	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (cut_at(mid, d) >= s)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* The earliest time L at which a snapshot makes keep-within d drop one
 * taken at s: the least L with cutoff(L) >= s.  Not simply s + d:
 * cutoff() is not monotone across month ends (March 31 minus a month is
 * March 3, April 1 minus a month March 1), so s + d can be up to three
 * days late, and a lock that late would refuse a deletion the policy
 * asks for.  Within one local month of L cutoff() is monotone (but see
 * below): search month by month from a week before s + d. */
static int64_t
within_end(int64_t s, const struct gfsb_duration *d)
{
	struct tm tm;
	time_t tt = (time_t)s;
	int64_t a, lo, hi, m, e;
	int i;

	localtime_r(&tt, &tm);
	tm.tm_year += d->years;
	tm.tm_mon += d->months;
	tm.tm_mday += d->days;
	tm.tm_isdst = -1;
	a = (int64_t)mktime(&tm) + (int64_t)d->hours * 3600;
	m = start_plus(GFSB_RULE_MONTHLY, a - 8 * DAY, 0);
	for (i = 0; i < 6; i++) {
		lo = m;
		hi = start_plus(GFSB_RULE_MONTHLY, m, 1) - 1;
		if (cut_at(hi, d) < s) {
			m = hi + 1;
			continue;
		}
		if (cut_at(lo, d) >= s)
			return lo;
		e = first_cut(lo, hi, s, d);
		/* Except around DST changes: mktime moves a time in a
		 * skipped hour an hour on, and cut_at() reads a repeated
		 * one as its second occurrence, so one hour of L cuts off
		 * as much as the hour after it; the first moment can then
		 * be an hour earlier. */
		if (cut_at(e - 3600, d) >= s)
			e = first_cut(e - 7200, e - 3600, s, d);
		return e;
	}
	return a; /* not reached: cutoff(s + d) >= s */
}

/* The son: the finest count rule, else the finest keep-within-<period>
 * rule; -1 if the policy has neither. */
static int
son_rule(const struct gfsb_policy *p)
{
	int r;

	for (r = GFSB_RULE_HOURLY; r < GFSB_RULE_COUNT; r++)
		if (p->keep[r] > 0)
			return r;
	for (r = GFSB_RULE_HOURLY; r < GFSB_RULE_COUNT; r++)
		if (dur_set(&p->within[r]))
			return r;
	return -1;
}

int64_t
gfsb_gfs_lock_longest(const struct gfsb_policy *p,
    const struct gfsb_time *now, int64_t margin)
{
	struct hcur c;
	int64_t e = now->sec;
	int r;

	for (r = GFSB_RULE_HOURLY; r < GFSB_RULE_COUNT; r++) {
		if (p->keep[r] <= 0)
			continue;
		if (r == GFSB_RULE_HOURLY) {
			hcur_init(&c, now->sec);
			hcur_seek(&c, p->keep[r]);
			e = max64(e, c.s);
		} else {
			e = max64(e, start_plus((enum gfsb_gfs_rule)r,
			    now->sec, p->keep[r]));
		}
	}
	for (r = 0; r < GFSB_RULE_COUNT; r++)
		if (dur_set(&p->within[r]))
			e = max64(e, within_end(now->sec, &p->within[r]));
	return e + margin;
}

/* What one call works out once for the whole group. */
struct lk {
	const struct gfsb_policy *p;
	int64_t now;
	int son;
	int held[GFSB_RULE_COUNT]; /* some item lies in period(now) */
	struct hcur hnow;	   /* hours from now's */
	int64_t tag;		   /* lock for tagged snapshots, -1 unknown */
};

/* Earliest end of role r (a count rule) for item it. */
static int64_t
count_end(struct lk *k, enum gfsb_gfs_rule r, const struct gfsb_gfs_item *it,
    const struct gfsb_gfs_decision *d)
{
	struct hcur c;
	int future = it->time.sec > k->now;
	int64_t t0 = future ? it->time.sec : k->now;
	long m;

	/* keep-last: as many snapshots can come at once. */
	if (r == GFSB_RULE_LAST)
		return k->now;
	/* A later snapshot of its still open period takes a provisional
	 * role over; the son's is locked as if it kept it. */
	if ((int)r != k->son && per(r, it->time.sec) == per(r, t0))
		return k->now;
	/* counters[r] + 1 more periods newer than every period already
	 * counted: the first of them is the one after t0's if that one
	 * holds a snapshot already (a future item holds its own).  A future
	 * item's periods beyond t0 are not skipped, so this can come early,
	 * never late. */
	m = (long)d->counters[r] + (future ? 1 : k->held[r]);
	if (m <= 0)
		return k->now;
	if (r != GFSB_RULE_HOURLY)
		return start_plus(r, t0, m);
	if (!future) {
		hcur_seek(&k->hnow, m);
		return k->hnow.s;
	}
	hcur_init(&c, t0);
	hcur_seek(&c, m);
	return c.s;
}

/* Earliest end of a keep-within-<period> (or plain keep-within, r ==
 * LAST) role. */
static int64_t
within_role_end(struct lk *k, enum gfsb_gfs_rule r,
    const struct gfsb_gfs_item *it)
{
	int64_t t0 = max64(k->now, it->time.sec);

	/* Provisional like a count role: keep-within-yearly 10y would lock
	 * every nightly snapshot for ten years. */
	if (r != GFSB_RULE_LAST && k->son >= 0 && (int)r > k->son &&
	    per(r, it->time.sec) == per(r, t0))
		return k->now;
	return within_end(it->time.sec, &k->p->within[r]);
}

static int64_t
item_end(struct lk *k, const struct gfsb_gfs_item *it,
    const struct gfsb_gfs_decision *d, unsigned within)
{
	int64_t e = k->now;
	int r;

	for (r = 0; r < GFSB_RULE_COUNT; r++)
		if ((d->roles & (1u << r)) && k->p->keep[r] > 0)
			e = max64(e, count_end(k, (enum gfsb_gfs_rule)r, it,
			    d));
	for (r = 0; r < GFSB_RULE_COUNT; r++)
		if (within & (1u << r))
			e = max64(e, within_role_end(k,
			    (enum gfsb_gfs_rule)r, it));
	if (d->roles & GFSB_ROLE_TAG) {
		if (k->tag < 0) {
			struct gfsb_time t;

			t.sec = k->now;
			t.nsec = 0;
			k->tag = gfsb_gfs_lock_longest(k->p, &t, 0);
		}
		e = max64(e, k->tag);
	}
	return e;
}

gfsb_err
gfsb_gfs_lock_dates(const struct gfsb_policy *p,
    const struct gfsb_gfs_item *items, size_t n,
    const struct gfsb_gfs_decision *dec, const struct gfsb_time *now,
    int64_t margin, int64_t *until)
{
	struct gfsb_time latest, cut[GFSB_RULE_COUNT];
	long wlast[GFSB_RULE_COUNT], val;
	struct lk k;
	size_t *ord, j;
	unsigned within;
	int r;

	if (gfsb_gfs_policy_empty(p) || margin < 0 ||
	    margin > GFSB_GFS_MARGIN_MAX)
		return GFSB_EINVAL;
	if (n == 0)
		return GFSB_OK;
	if (gfs_newest_first(items, n, &ord) != GFSB_OK)
		return GFSB_ENOMEM;
	memset(&k, 0, sizeof(k));
	k.p = p;
	k.now = now->sec;
	k.son = son_rule(p);
	k.tag = -1;
	hcur_init(&k.hnow, k.now);
	for (r = GFSB_RULE_HOURLY; r < GFSB_RULE_COUNT; r++)
		for (j = 0; j < n && p->keep[r] > 0 && !k.held[r]; j++)
			k.held[r] = per((enum gfsb_gfs_rule)r,
			    items[j].time.sec) ==
			    per((enum gfsb_gfs_rule)r, k.now);
	/* Which keep-within rules keep which item, walked as
	 * gfsb_gfs_apply walks them: decisions only say "within". */
	latest.sec = INT64_MIN / 2;
	latest.nsec = 0;
	for (j = 0; j < n; j++)
		if (gfsb_time_cmp(&items[ord[j]].time, now) < 0) {
			latest = items[ord[j]].time;
			break;
		}
	for (r = 0; r < GFSB_RULE_COUNT; r++) {
		wlast[r] = -1;
		cut[r] = gfs_cutoff(&latest, &p->within[r]);
	}
	for (j = 0; j < n; j++) {
		const struct gfsb_gfs_item *it = &items[ord[j]];

		for (r = 0, within = 0; r < GFSB_RULE_COUNT; r++) {
			if (!dur_set(&p->within[r]) ||
			    gfsb_time_cmp(&it->time, &cut[r]) <= 0)
				continue;
			if (r != GFSB_RULE_LAST) {
				val = per((enum gfsb_gfs_rule)r, it->time.sec);
				if (val == wlast[r])
					continue;
				wlast[r] = val;
			}
			within |= 1u << r;
		}
		until[ord[j]] = dec[ord[j]].keep ?
		    item_end(&k, it, &dec[ord[j]], within) + margin : 0;
	}
	free(ord);
	return GFSB_OK;
}

gfsb_err
gfsb_gfs_margin_parse(const char *s, int64_t *seconds)
{
	static const char units[] = "dhms";
	static const int64_t mult[] = { DAY, 3600, 60, 1 };
	const char *q = s, *u;
	int64_t v, total = 0;
	int last = -1;

	if (s == NULL || *s == '\0')
		return GFSB_EINVAL;
	while (*q != '\0') {
		if (*q < '0' || *q > '9')
			return GFSB_EINVAL;
		for (v = 0; *q >= '0' && *q <= '9'; q++) {
			v = v * 10 + (*q - '0');
			if (v > GFSB_GFS_MARGIN_MAX)
				return GFSB_EINVAL;
		}
		/* Units largest first, each once: "1d12h", not "12h1d". */
		if (*q == '\0' || (u = strchr(units, *q)) == NULL ||
		    (int)(u - units) <= last)
			return GFSB_EINVAL;
		last = (int)(u - units);
		total += v * mult[last];
		if (total > GFSB_GFS_MARGIN_MAX)
			return GFSB_EINVAL;
		q++;
	}
	*seconds = total;
	return GFSB_OK;
}

char *
gfsb_gfs_margin_format(int64_t s, char *buf, size_t len)
{
	long long d = (long long)(s / DAY), h = (long long)(s % DAY / 3600);
	long long rest = (long long)(s % 3600);
	size_t o = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (s < 0)
		return buf;
	if (d)
		o += (size_t)snprintf(buf + o, len - o, "%lldd", d);
	if (h && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%lldh", h);
	/* Below an hour: whole minutes, else seconds ("90s", not
	 * "1m30s"), so that each part stays one number a person reads. */
	if (rest && rest % 60 == 0 && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%lldm", rest / 60);
	else if (rest && o < len)
		o += (size_t)snprintf(buf + o, len - o, "%llds", rest);
	if (s == 0)
		snprintf(buf, len, "0s");
	return buf;
}
