/* Declarations shared by the text and HTML renderings of a report. */
#ifndef GFSB_REPORT_INTERNAL_H
#define GFSB_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/report.h>

/*
 * A writer that keeps its first error, so that a rendering writes a whole
 * document and checks once at the end (as gfsb_rd keeps `bad`).  After an
 * error every further write does nothing.
 */
struct report_out {
	struct gfsb_buf *b;
	size_t start; /* b->len when the rendering began */
	gfsb_err err;
};

/*
 * report_out_init(o, b): start appending to b.
 * report_out_finish(o): the first error, or GFSB_OK.  On success the
 * buffer is followed by a NUL that len does not count, so that b->data can
 * be handed on as a C string; on failure b is cut back to where it began.
 */
void report_out_init(struct report_out *o, struct gfsb_buf *b);
gfsb_err report_out_finish(struct report_out *o);

void report_putn(struct report_out *o, const char *s, size_t n);
void report_put(struct report_out *o, const char *s);
void report_printf(struct report_out *o, const char *fmt, ...)
    GFSB_PRINTF(2, 3);

/*
 * report_put_clean(o, s, html):
 * Write a string that comes from outside (a file name, a host name, an
 * error text).  Control characters (C0, DEL, C1) and bytes that are not
 * valid UTF-8 become '?', so that a hostile name can neither break a line
 * nor send a terminal escape; valid UTF-8 is kept.  With html, & < > " '
 * are escaped as well.  NULL is written as "?".
 */
void report_put_clean(struct report_out *o, const char *s, int html);

/*
 * report_clean_width(s): how many columns report_put_clean(s, 0) takes
 * (one per character, which holds for the scripts file names use; wide CJK
 * characters only misalign the padding after them).
 */
size_t report_clean_width(const char *s);

/* Formatting: each writes a NUL-terminated string into buf and returns it. */
char *report_fmt_time(const struct gfsb_time *t, char *buf, size_t len);
char *report_fmt_age(const struct gfsb_time *then, const struct gfsb_time *now,
    char *buf, size_t len);
char *report_fmt_duration(double seconds, char *buf, size_t len);
char *report_fmt_size(uint64_t n, char *buf, size_t len);
char *report_fmt_count(uint64_t n, char *buf, size_t len);

/* The verification's coverage in words, into buf; 1 when packs are late
 * (never read though their night has passed, or never read at all
 * outside rotate/T), for a warning colour. */
int report_coverage(const struct gfsb_report *r, char *buf, size_t len);

/* The rows of the retention table, GFS roles first. */
struct report_role {
	unsigned bit;      /* GFSB_ROLE_* */
	const char *name;  /* "daily" */
	const char *label; /* "daily (son)" */
};

#define REPORT_NROLES 8
extern const struct report_role report_roles[REPORT_NROLES];

/* Per role: how many snapshots play it, the oldest and the newest. */
struct report_role_stat {
	size_t count;
	struct gfsb_time oldest, newest;
};

/* Of group g's snapshots (REPORT_ALL_GROUPS: all), and how many. */
#define REPORT_ALL_GROUPS ((size_t)-1)
size_t report_role_stats(const struct gfsb_report *r, size_t g,
    struct report_role_stat st[REPORT_NROLES]);

/*
 * Local days are numbered as days since 1970-01-01 in the proleptic
 * Gregorian calendar.  A snapshot's day number comes from its local date
 * (localtime_r), so stepping a day is integer arithmetic on dates and never
 * meets a 23- or 25-hour day.
 */
long report_day_of(const struct gfsb_time *t);

/* The drill's facts as the lines both renderings show (numbers and
 * fixed words only: nothing in them needs escaping). */
struct report_drill_lines {
	char sample[128];	/* "412 files, 2.00 GiB (0.1% of the snapshot)" */
	char rate[64];		/* "212 MiB/s" */
	char projected[160];	/* "2 h 14 min to restore all 1,234 files, ..." */
	char rto[96];		/* "within the objective of 4 h", "" none */
	int exceeds;		/* rto says EXCEEDS */
};
void report_drill_lines(const struct gfsb_report_drill *d,
    struct report_drill_lines *l);

/* When the last restore drill ran, as the operator counts nights:
 * "tonight" (in this job), "earlier today", "yesterday", "3 days ago". */
char *report_drill_age(const struct gfsb_report *r, char *buf, size_t len);
char *report_fmt_day(long day, char *buf, size_t len); /* "2026-11-22" */

/* The four GFS rows of the timeline: daily, weekly, monthly, yearly. */
#define REPORT_TL_ROWS 4
#define REPORT_TL_ANY 0x80u
/* Days drawn at most (a century); older snapshots are counted, not drawn. */
#define REPORT_TL_MAX_DAYS 36600

/*
 * The GFS timeline: one row per GFS role, one cell per local day from the
 * report's day (age 0) back to the day of the oldest snapshot held.
 */
struct report_tl {
	long today;    /* day number of r->now */
	size_t ndays;  /* cells per row; 0 when nothing to draw */
	unsigned rows; /* bit i: row i has at least one mark */
	uint8_t *cell; /* cell[age]: bit i set when row i is marked,
	                * REPORT_TL_ANY when any snapshot is there */
	size_t marks[REPORT_TL_ROWS]; /* marked cells per row */
	size_t not_drawn; /* snapshots after today or beyond the cap */
};

extern const unsigned report_tl_role[REPORT_TL_ROWS];
extern const char *const report_tl_name[REPORT_TL_ROWS];

/*
 * report_tl_build(r, tl), report_tl_fini(tl):
 * Build the timeline of r's snapshots; free it.  GFSB_ENOMEM.
 */
gfsb_err report_tl_build(const struct gfsb_report *r, struct report_tl *tl);
void report_tl_fini(struct report_tl *tl);

/*
 * report_tl_block(tl, size, k, lo, hi): the ages [*lo, *hi] in block k
 * (newest block is 0), each block `size` days; 0 if there is no block k.
 * report_tl_empty(tl, lo, hi): non-zero if no row is marked in [lo, hi].
 */
int report_tl_block(
    const struct report_tl *tl, size_t size, size_t k, size_t *lo, size_t *hi);
int report_tl_empty(const struct report_tl *tl, size_t lo, size_t hi);

/*
 * report_tl_months(tl, lo, hi, out, max): the calendar months the ages
 * [lo, hi] cover, older first, each a run of days (at most max; a block
 * of 182 days covers at most 8): the axis under a block's rows.
 */
struct report_tl_month {
	size_t days;	/* its days in the block */
	int starts;	/* the run begins on the month's first day */
	char label[24];	/* "Jul", or "Jan 2027" where a year begins */
};
size_t report_tl_months(const struct report_tl *tl, size_t lo, size_t hi,
    struct report_tl_month *out, size_t max);

/*
 * report_tl_gap(tl, lo, hi, buf, len): the line that stands for the empty
 * ages [lo, hi]: "no snapshot kept from 2017-01-02 to 2017-06-30".
 */
char *report_tl_gap(
    const struct report_tl *tl, size_t lo, size_t hi, char *buf, size_t len);

#endif
