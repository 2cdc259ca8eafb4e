/*
 * gfs: retention policies and decisions (grandfather-father-son).
 *
 * A policy says which snapshots to keep: the last N, the newest of each of
 * the last N hours/days/weeks/months/years that hold a snapshot, every
 * snapshot (or the newest per period) within a duration of the newest one,
 * and those carrying given tags.  The decisions follow restic's `forget`
 * exactly, plus its newer "oldest" rule (docs/RETENTION.md), so that
 * operators who know restic get no surprises.  This module knows nothing of
 * repositories: it decides over times and tags.
 */
#ifndef GFSBACKUP_GFS_H
#define GFSBACKUP_GFS_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/util.h>

struct gfsb_ctx;

/* A calendar duration, as restic writes it: "1y6m", "7d", "36h". */
struct gfsb_duration {
	int years, months, days, hours;
};

/* The count rules, in the order restic applies them. */
enum gfsb_gfs_rule {
	GFSB_RULE_LAST = 0,
	GFSB_RULE_HOURLY,
	GFSB_RULE_DAILY,
	GFSB_RULE_WEEKLY,
	GFSB_RULE_MONTHLY,
	GFSB_RULE_YEARLY,
	GFSB_RULE_COUNT
};

/* Roles a kept snapshot plays (bits). */
#define GFSB_ROLE_LAST (1u << GFSB_RULE_LAST)
#define GFSB_ROLE_HOURLY (1u << GFSB_RULE_HOURLY)
#define GFSB_ROLE_DAILY (1u << GFSB_RULE_DAILY)     /* son */
#define GFSB_ROLE_WEEKLY (1u << GFSB_RULE_WEEKLY)   /* father */
#define GFSB_ROLE_MONTHLY (1u << GFSB_RULE_MONTHLY) /* grandfather */
#define GFSB_ROLE_YEARLY (1u << GFSB_RULE_YEARLY)
#define GFSB_ROLE_WITHIN (1u << 6)
#define GFSB_ROLE_TAG (1u << 7)

struct gfsb_policy {
	int keep[GFSB_RULE_COUNT]; /* counts by enum gfsb_gfs_rule; 0 = off */
	/* keep-within, then keep-within-hourly/daily/weekly/monthly/yearly
	 * (indexed like keep[], with LAST standing for plain keep-within) */
	struct gfsb_duration within[GFSB_RULE_COUNT];
	char ***tags;	/* tag lists: a snapshot with all tags of one list */
	size_t *ntags;	/* tags in each list */
	size_t nlists;
};

/*
 * gfsb_gfs_policy_new(out), gfsb_gfs_policy_free(p):
 * An empty policy; free one (NULL allowed).
 */
gfsb_err gfsb_gfs_policy_new(struct gfsb_policy **out) GFSB_WUR;
void gfsb_gfs_policy_free(struct gfsb_policy *p);

/*
 * gfsb_gfs_policy_set(ctx, p, key, value, where):
 * Apply one rule: key is a policy-file key ("keep-daily", "keep-within",
 * "keep-tag", ...) and value its text.  GFSB_EINVAL with a message starting
 * with `where` (e.g. "standard.policy:4") for an unknown key, a count that
 * is negative or not a number, a malformed duration, or a count or
 * duration given twice.
 */
gfsb_err gfsb_gfs_policy_set(struct gfsb_ctx *ctx, struct gfsb_policy *p,
    const char *key, const char *value, const char *where) GFSB_WUR;

/*
 * gfsb_gfs_policy_load(ctx, path, out):
 * Read a policy file: `key = value` lines, `#` or `;` comments, no
 * sections.  Every error names the file and line.  GFSB_ENOTFOUND or
 * GFSB_EIO if it cannot be read, GFSB_EINVAL for its content (including a
 * policy that keeps nothing at all).
 */
gfsb_err gfsb_gfs_policy_load(struct gfsb_ctx *ctx, const char *path,
    struct gfsb_policy **out) GFSB_WUR;

/*
 * gfsb_gfs_policy_empty(p):
 * Non-zero if p has no rule at all.
 */
int gfsb_gfs_policy_empty(const struct gfsb_policy *p);

/*
 * gfsb_gfs_policy_describe(p, buf, len):
 * A one-line summary ("keep-daily 7, keep-weekly 4, ...").  Returns buf.
 */
char *gfsb_gfs_policy_describe(const struct gfsb_policy *p, char *buf,
    size_t len);

/*
 * gfsb_gfs_duration_parse(s, d):
 * Parse "1y5m7d2h"-style durations (each part optional, at least one).
 * GFSB_EINVAL when malformed or zero.
 */
gfsb_err gfsb_gfs_duration_parse(const char *s, struct gfsb_duration *d)
    GFSB_WUR;

/*
 * gfsb_gfs_duration_format(d, buf, len):
 * Format as restic does ("1y5m7d2h", parts that are zero left out).
 */
char *gfsb_gfs_duration_format(const struct gfsb_duration *d, char *buf,
    size_t len);

/* One snapshot, as the retention engine sees it. */
struct gfsb_gfs_item {
	struct gfsb_time time;
	char *const *tags;
	size_t ntags;
};

/* The decision for one item. */
struct gfsb_gfs_decision {
	int keep;
	unsigned roles;		 /* GFSB_ROLE_* bits */
	char reasons[8][48];	 /* restic's match strings, "daily snapshot" */
	size_t nreasons;
	int counters[GFSB_RULE_COUNT]; /* counts left after this one */
};

/*
 * gfsb_gfs_apply(p, items, n, now, out):
 * Decide for each of the n items (one group; any order) whether to keep
 * it, with its roles and reasons; out[i] is the decision for items[i].
 * Periods are calendar periods in the local time zone (TZ), weeks are ISO
 * 8601 weeks.  keep-within windows end at the newest item that is not
 * after `now` (a snapshot with a clock error in the future must not
 * expire the history).  GFSB_EINVAL for an empty policy, GFSB_ENOMEM.
 */
gfsb_err gfsb_gfs_apply(const struct gfsb_policy *p,
    const struct gfsb_gfs_item *items, size_t n, const struct gfsb_time *now,
    struct gfsb_gfs_decision *out) GFSB_WUR;

/*
 * gfsb_gfs_period(rule, t):
 * The period of time t for a count rule (hourly: YYYYMMDDhh, daily:
 * YYYYMMDD, weekly: ISO year * 100 + ISO week, monthly: YYYYMM, yearly:
 * YYYY), in the local time zone.  For tests and `policy show`.
 */
long gfsb_gfs_period(enum gfsb_gfs_rule rule, const struct gfsb_time *t);

/* The largest lock margin: ten years. */
#define GFSB_GFS_MARGIN_MAX ((int64_t)3650 * 86400)

/*
 * gfsb_gfs_lock_dates(p, items, n, dec, now, margin, until):
 * The S3 Object Lock retain-until time (seconds since the epoch) that the
 * objects of each of the n items of one group need: until[i] for
 * items[i], given dec[0..n), the decisions gfsb_gfs_apply made for the
 * same p, items and now.  An item the policy does not keep gets 0.  A
 * kept one gets margin + the latest, over the rules that keep it, of the
 * earliest moment snapshots taken at or after now could make that rule
 * drop it, and at least margin + now: now for keep-last; for a count
 * rule, the start of the (counters[r] + 1)-th period that can still hold
 * a new snapshot (local calendar periods, DST-exact); for keep-within*,
 * the first time a newest snapshot would put it outside the window; for
 * keep-tag, gfsb_gfs_lock_longest(p, now, 0).  A role in a period still
 * open at now, for a rule coarser than the finest count rule (the son;
 * without count rules the finest keep-within-<period> rule), counts for
 * nothing: a later snapshot can take it over, and the first call after
 * the period closes extends the date instead.  Items after now (clock
 * errors) are measured from their own time.  docs/RETENTION.md, "Object
 * Lock dates", has the rules and their limits.  GFSB_EINVAL for an empty
 * policy or a margin outside [0, GFSB_GFS_MARGIN_MAX]; GFSB_ENOMEM.
 * Allocates O(n).  Reads the local time zone (TZ): thread-safe as long
 * as nobody changes TZ meanwhile.
 */
gfsb_err gfsb_gfs_lock_dates(const struct gfsb_policy *p,
    const struct gfsb_gfs_item *items, size_t n,
    const struct gfsb_gfs_decision *dec, const struct gfsb_time *now,
    int64_t margin, int64_t *until) GFSB_WUR;

/*
 * gfsb_gfs_lock_longest(p, now, margin):
 * The longest lock p can ask for a snapshot taken at now: margin + the
 * latest of now, the start of the period N periods after now's for each
 * count rule with count N (hourly to yearly), and the end of each
 * keep-within* window for a snapshot taken now.  For the repository's
 * key files and config, and for tagged snapshots.  margin as from
 * gfsb_gfs_margin_parse.  Thread-safe as gfsb_gfs_lock_dates.
 */
int64_t gfsb_gfs_lock_longest(const struct gfsb_policy *p,
    const struct gfsb_time *now, int64_t margin);

/*
 * gfsb_gfs_margin_parse(s, seconds):
 * Parse a lock margin: whole numbers each followed by d (days), h, m
 * (minutes, not months) or s, units largest first and each at most once
 * ("2d", "36h", "90s", "1d12h", "0s").  GFSB_EINVAL for NULL, an empty
 * string, a sign, an unknown or repeated unit, a number without a unit,
 * trailing text, or more than GFSB_GFS_MARGIN_MAX; *seconds is set only
 * on success.
 */
gfsb_err gfsb_gfs_margin_parse(const char *s, int64_t *seconds) GFSB_WUR;

/*
 * gfsb_gfs_margin_format(s, buf, len):
 * Format seconds s >= 0 as gfsb_gfs_margin_parse reads it: days, hours,
 * then the rest below an hour in minutes if whole, else in seconds
 * ("2d", "1d12h", "30m", "90s", "0s").  Truncated to fit len; "" for
 * s < 0.  Returns buf.
 */
char *gfsb_gfs_margin_format(int64_t s, char *buf, size_t len);

/* The result of simulating a policy over daily backups. */
struct gfsb_gfs_sim {
	size_t days;
	size_t held;	     /* snapshots held at the end */
	size_t max_held;     /* most held on any day */
	int *age_days;	     /* ages of those held, newest first (held) */
	unsigned *roles;     /* their roles */
};

/*
 * gfsb_gfs_simulate(p, days, end, out):
 * Simulate one backup a day for `days` days, the last at `end`, with the
 * policy applied (and what it removes forgotten) after every backup.
 * Fills *out (free with gfsb_gfs_sim_fini).  GFSB_EINVAL for an empty
 * policy or days == 0.
 */
gfsb_err gfsb_gfs_simulate(const struct gfsb_policy *p, size_t days,
    const struct gfsb_time *end, struct gfsb_gfs_sim *out) GFSB_WUR;
void gfsb_gfs_sim_fini(struct gfsb_gfs_sim *s);

/*
 * gfsb_gfs_sim_days(p):
 * Days enough for every rule of p to be full, with a tenth and a week
 * more, at most 36600: how long a simulation of p runs by default.
 */
size_t gfsb_gfs_sim_days(const struct gfsb_policy *p);

#endif /* !GFSBACKUP_GFS_H */
