/* report: the status rules, and both renderings read back: the order of
 * the sections, escaping and cleaning of hostile strings, the GFS timeline
 * parsed cell by cell (also across DST changes), a 10-year history that
 * must stay small, the 30-night bars, the restore drill and its
 * projection, and reports with nothing in them.
 * With GFSB_REPORT_SAMPLE_DIR set, a realistic report is also written
 * there as report-sample.txt and report-sample.html to look at. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/report.h>
#include <gfsbackup/util.h>

#define GiB (1024.0 * 1024 * 1024)
#define MiB (1024.0 * 1024)

static void
tz(const char *zone)
{
	setenv("TZ", zone, 1);
	tzset();
}

static struct gfsb_time
at(const char *local)
{
	struct gfsb_time t;

	assert_int_equal(gfsb_time_parse_local(local, &t), GFSB_OK);
	return t;
}

/* Local noon `back` days before the local day of `from`, stepped with
 * mktime (independent of the code under test). */
static struct tm
day_before(const struct gfsb_time *from, int back)
{
	time_t tt = (time_t)from->sec;
	struct tm tm;

	localtime_r(&tt, &tm);
	tm.tm_mday -= back;
	tm.tm_hour = 12;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	tt = mktime(&tm);
	localtime_r(&tt, &tm);
	return tm;
}

static const char *
date_before(const struct gfsb_time *from, int back, char *buf, size_t len)
{
	struct tm tm = day_before(from, back);

	strftime(buf, len, "%Y-%m-%d", &tm);
	return buf;
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

static char *
render(const struct gfsb_report *r, int html)
{
	struct gfsb_buf b;
	size_t len;
	char *s;

	gfsb_buf_init(&b);
	if (html)
		assert_int_equal(gfsb_report_render_html(r, &b), GFSB_OK);
	else
		assert_int_equal(gfsb_report_render_text(r, &b), GFSB_OK);
	assert_true(b.len > 0);
	/* The renderings leave a NUL after the document. */
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], 0);
	assert_int_equal(strlen((const char *)b.data), b.len);
	s = (char *)gfsb_buf_take(&b, &len);
	return s;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0, nl = strlen(needle);

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += nl;
	}
	return n;
}

static size_t
pos(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);

	if (p == NULL)
		fail_msg("missing: %s", needle);
	return (size_t)(p - hay);
}

/* What a mail client would refuse or fetch, and balanced tables. */
static void
check_html_safe(const char *h)
{
	assert_int_equal(strncmp(h, "<!DOCTYPE html>\n", 16), 0);
	assert_non_null(strstr(h, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(h, "<title>"));
	assert_non_null(strstr(h, "<body"));
	assert_non_null(strstr(h, "</html>\n"));
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "<style"));
	assert_null(strstr(h, "<img"));
	assert_null(strstr(h, "<link"));
	assert_null(strstr(h, "src="));
	assert_null(strstr(h, "href="));
	assert_null(strstr(h, "class="));
	assert_null(strstr(h, "http://"));
	assert_null(strstr(h, "https://"));
	assert_int_equal(count(h, "<table"), count(h, "</table>"));
	assert_int_equal(count(h, "<tr>"), count(h, "</tr>"));
	assert_int_equal(count(h, "<tr "), 0);
	assert_int_equal(count(h, "<td") + count(h, "<th"),
	    count(h, "</td>") + count(h, "</th>"));
	assert_int_equal(count(h, "<html"), 1);
	assert_int_equal(count(h, "</body>"), 1);
}

/* Nothing but printable ASCII, valid UTF-8 and newlines. */
static void
check_text_clean(const char *t)
{
	const unsigned char *p;

	for (p = (const unsigned char *)t; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			fail_msg("control byte 0x%02x at %zu", *p,
			    (size_t)(p - (const unsigned char *)t));
}

static void
maybe_write(const char *name, const char *s)
{
	const char *dir = getenv("GFSB_REPORT_SAMPLE_DIR");
	char path[4096];
	FILE *f;

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(s, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Daily backups at 01:00 for `days` days up to the day of `now`, kept by
 * the given GFS counts as the retention engine decides. */
static void
gfs_history(struct gfsb_report *r, size_t days, int d, int w, int m, int y)
{
	struct gfsb_gfs_decision *dec;
	struct gfsb_gfs_item *items;
	struct gfsb_policy *p;
	struct tm tm;
	size_t i, n;
	time_t tt;

	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	p->keep[GFSB_RULE_DAILY] = d;
	p->keep[GFSB_RULE_WEEKLY] = w;
	p->keep[GFSB_RULE_MONTHLY] = m;
	p->keep[GFSB_RULE_YEARLY] = y;
	assert_non_null(items = calloc(days, sizeof(*items)));
	assert_non_null(dec = calloc(days, sizeof(*dec)));
	for (i = 0; i < days; i++) {
		tm = day_before(&r->now, (int)(days - 1 - i));
		tm.tm_hour = 1;
		tm.tm_isdst = -1;
		tt = mktime(&tm);
		items[i].time.sec = tt;
	}
	assert_int_equal(gfsb_gfs_apply(p, items, days, &r->now, dec), GFSB_OK);
	for (i = n = 0; i < days; i++)
		n += dec[i].keep != 0;
	assert_non_null(r->snaps = calloc(n, sizeof(*r->snaps)));
	for (i = 0; i < days; i++) {
		if (!dec[i].keep)
			continue;
		r->snaps[r->nsnaps].time = items[i].time;
		r->snaps[r->nsnaps].roles = dec[i].roles;
		snprintf(r->snaps[r->nsnaps].id, sizeof(r->snaps[0].id),
		    "%08zx", i * 2654435761u % 0xffffffffu);
		r->nsnaps++;
	}
	free(items);
	free(dec);
	gfsb_gfs_policy_free(p);
}

/* A night-time job on a web server: realistic figures, one damaged pack,
 * an offsite copy lagging behind. */
static void
fill_sample(struct gfsb_report *r)
{
	int64_t size, add;
	struct tm tm;
	size_t i;

	gfsb_report_init(r);
	r->host = xstrdup("web01");
	r->repo =
	    xstrdup("s3:s3.eu-central-1.amazonaws.com/acme-backups/web01");
	r->now = at("2026-11-22 06:15:00");
	r->has_backup = 1;
	memcpy(r->backup_id, "1a2b3c4d", 9);
	r->backup_time = at("2026-11-22 01:00:04");
	r->backup_seconds = 723.4;
	r->files_total = 1234567;
	r->files_new = 120;
	r->files_changed = 3456;
	r->bytes_total = (uint64_t)(45.2 * GiB);
	r->data_added = (uint64_t)(74.2 * MiB);
	r->data_stored = (uint64_t)(27.5 * MiB);
	r->backup_warnings = 2;
	r->policy = xstrdup("keep-daily 7, keep-weekly 4, keep-monthly 12, "
	                    "keep-yearly 3");
	gfs_history(r, 3 * 365, 7, 4, 12, 3);
	r->retention_ran = 1;
	r->snapshots_removed = 1;
	r->prune_ran = 1;
	r->packs_freed = 3;
	r->bytes_freed = (uint64_t)(96.3 * MiB);
	r->offsite = GFSB_OFFSITE_BEHIND;
	r->offsite_repo = xstrdup("/mnt/offsite/web01");
	r->offsite_synced = at("2026-11-21 01:30:00");
	r->behind_objects = 12;
	r->behind_bytes = (uint64_t)(40.1 * MiB);
	r->verify_ran = 1;
	r->packs_total = 1000;
	r->packs_read = 143;
	r->bytes_read = (uint64_t)(2.1 * GiB);
	r->read_mode = xstrdup("rotate/7 (slice 3)");
	r->days_since_all_read = 6; /* rotate/7: the oldest read 6 nights ago */
	/* Tonight's drill: 1.2 GiB back from the offsite copy, at a pace
	 * that restores everything in 2 h 14 min, within a 4 h objective. */
	r->drill.has = 1;
	r->drill.ran = 1;
	r->drill.when = at("2026-11-22 02:10:00");
	memcpy(r->drill.snapshot, "1a2b3c4d", 9);
	r->drill.repo = xstrdup("/mnt/offsite/web01");
	r->drill.files = 412;
	r->drill.bytes = (uint64_t)(1.2 * GiB);
	r->drill.total_files = r->files_total;
	r->drill.total_bytes = r->bytes_total;
	r->drill.projected = 8040;
	r->drill.rate = (double)r->drill.total_bytes / 8040;
	r->drill.seconds = (double)r->drill.bytes / r->drill.rate;
	r->drill.rto = 4 * 3600;
	assert_int_equal(gfsb_report_add_stage(r, "backup", GFSB_REPORT_OK,
	                     "1,234,567 files, 74.2 MiB new"),
	    GFSB_OK);
	assert_int_equal(gfsb_report_add_stage(
	                     r, "forget", GFSB_REPORT_OK, "1 snapshot removed"),
	    GFSB_OK);
	assert_int_equal(
	    gfsb_report_add_stage(r, "prune", GFSB_REPORT_OK, "3 packs freed"),
	    GFSB_OK);
	assert_int_equal(gfsb_report_add_stage(r, "sync", GFSB_REPORT_WARNING,
	                     "12 objects behind"),
	    GFSB_OK);
	assert_int_equal(gfsb_report_add_stage(
	                     r, "verify", GFSB_REPORT_FAILED, "1 damaged pack"),
	    GFSB_OK);
	assert_int_equal(gfsb_report_add_damage(r, "pack 3fa2c1d0e5: SHA-256 "
	                                           "mismatch (read 8.0 MiB)"),
	    GFSB_OK);
	assert_int_equal(gfsb_report_add_damage(r,
	                     "snapshot 1a2b3c4d "
	                     "/srv/www/shop/img/banner-2026.png: blob 9c1e7a "
	                     "in pack 3fa2c1d0e5"),
	    GFSB_OK);
	assert_int_equal(gfsb_report_add_warning(r, "/srv/www/shop/tmp/lock: "
	                                            "Permission denied"),
	    GFSB_OK);
	/* A steady 5 to 40 MiB a night, a 340 MiB night (someone copied
	 * disk images), prune freeing 96.3 MiB on night 20 and one night
	 * whose figures were lost. */
	size = (int64_t)(1.02 * GiB);
	for (i = 0; i < GFSB_REPORT_DAYS; i++) {
		tm = day_before(&r->now, (int)(GFSB_REPORT_DAYS - 1 - i));
		tm.tm_hour = 0;
		tm.tm_isdst = -1;
		r->days[i].day.sec = mktime(&tm);
		add = (int64_t)((5 + (double)((i * 37) % 23) * 1.5) * MiB);
		if (i == 25)
			add = (int64_t)(340 * MiB);
		size += add;
		if (i == 20)
			size -= (int64_t)(96.3 * MiB);
		r->days[i].repo_size = size;
		r->days[i].new_data = add;
	}
	r->days[12].repo_size = -1;
	r->days[12].new_data = -1;
	r->repo_size = (uint64_t)size;
}

/* ---- tests ---- */

static void
test_status_rises(void **state)
{
	struct gfsb_report r;

	(void)state;
	gfsb_report_init(&r);
	assert_int_equal(r.status, GFSB_REPORT_OK);
	assert_int_equal(gfsb_report_add_warning(&r, "w %d", 1), GFSB_OK);
	assert_int_equal(r.status, GFSB_REPORT_WARNING);
	assert_int_equal(gfsb_report_add_error(&r, "e"), GFSB_OK);
	assert_int_equal(gfsb_report_add_warning(&r, "w2"), GFSB_OK);
	assert_int_equal(r.status, GFSB_REPORT_FAILED);
	assert_string_equal(r.warnings[0], "w 1");
	gfsb_report_fini(&r);
}

static void
test_subject(void **state)
{
	struct gfsb_report r;
	char buf[256];

	(void)state;
	fill_sample(&r);
	assert_string_equal(gfsb_report_subject(&r, buf, sizeof(buf)),
	    "[gfsbackup] FAILED web01: "
	    "s3:s3.eu-central-1.amazonaws.com/acme-backups/web01");
	gfsb_report_fini(&r);
	gfsb_report_init(&r);
	assert_string_equal(
	    gfsb_report_subject(&r, buf, sizeof(buf)), "[gfsbackup] OK ?: ?");
	gfsb_report_fini(&r);
}

static void
test_text_sample(void **state)
{
	struct gfsb_report r;
	char *t;

	(void)state;
	fill_sample(&r);
	t = render(&r, 0);
	maybe_write("report-sample.txt", t);
	check_text_clean(t);
	/* Status first, problems next, then the details in order. */
	assert_int_equal(pos(t, "gfsbackup: FAILED\n"), 0);
	assert_true(pos(t, "\nNEEDS ATTENTION\n") < pos(t, "\nSTAGES\n"));
	assert_true(pos(t, "\nSTAGES\n") < pos(t, "\nLAST BACKUP\n"));
	assert_true(pos(t, "\nLAST BACKUP\n") < pos(t, "\nRETENTION\n"));
	assert_true(pos(t, "\nRETENTION\n") < pos(t, "\nOFFSITE\n"));
	assert_true(pos(t, "\nOFFSITE\n") < pos(t, "\nVERIFICATION\n"));
	assert_true(pos(t, "\nVERIFICATION\n") < pos(t, "\nRECOVERY DRILL\n"));
	assert_true(pos(t, "\nRECOVERY DRILL\n") < pos(t, "\nGFS TIMELINE\n"));
	assert_true(pos(t, "\nGFS TIMELINE\n") < pos(t, "\nLAST 30 NIGHTS\n"));
	assert_true(pos(t, "  damage   pack 3fa2c1d0e5: SHA-256 mismatch") <
	            pos(t, "\nSTAGES\n"));
	assert_true(pos(t, "  damage   pack 3fa2c1d0e5") <
	            pos(t, "  damage   snapshot 1a2b3c4d /srv/www/shop/img/"));
	assert_true(pos(t, "  damage   snapshot") < pos(t, "  warning  /srv"));
	/* A long damage line wraps at a space, never inside an id (HTML:
	 * only a word wider than the line may break). */
	assert_non_null(strstr(t, "  damage   snapshot 1a2b3c4d /srv/www/shop/"
	    "img/banner-2026.png: blob 9c1e7a in\n           pack 3fa2c1d0e5\n"));
	/* Damage says the way back, once, after the damage lines. */
	assert_true(pos(t, "  damage   snapshot") <
	            pos(t, "  to do    if the other copy verifies clean"));
	assert_int_equal(count(t, "gfsbackup repair index --read-data"), 1);
	/* The facts, in the words the operator reads. */
	assert_non_null(strstr(t, "  host         web01\n"));
	assert_non_null(strstr(t, "  report time  2026-11-22 06:15\n"));
	assert_non_null(strstr(t, "  verify  FAILED   1 damaged pack\n"));
	assert_non_null(strstr(t, "  sync    WARNING  12 objects behind\n"));
	assert_non_null(strstr(t, "  snapshot     1a2b3c4d\n"));
	assert_non_null(strstr(t, "  taken        2026-11-22 01:00 "
	                          "(5 h 14 min ago)\n"));
	assert_non_null(strstr(t, "  duration     12 min 03 s\n"));
	assert_non_null(strstr(t, "  files        1,234,567 (120 new, "
	                          "3,456 changed)\n"));
	assert_non_null(strstr(t, "  processed    45.2 GiB\n"));
	assert_non_null(strstr(t, "  new data     74.2 MiB after dedup, "
	                          "27.5 MiB stored after compression\n"));
	assert_non_null(strstr(t, "  unreadable   2 files\n"));
	assert_non_null(strstr(t, "  daily (son)                7  "));
	assert_non_null(strstr(t, "  weekly (father)            4  "));
	assert_non_null(strstr(t, "  monthly (grandfather)     12  "));
	assert_non_null(strstr(t, "  yearly                     3  "));
	assert_non_null(
	    strstr(t, "  policy       keep-daily 7, keep-weekly 4,"));
	assert_non_null(strstr(t, "  retention    removed 1 snapshot\n"));
	assert_non_null(strstr(t, "  prune        freed 3 packs, 96.3 MiB\n"));
	assert_non_null(strstr(t, "  repo size    1.86 GiB\n"));
	assert_non_null(strstr(t, "  state        behind: 12 objects, "
	                          "40.1 MiB\n"));
	assert_non_null(strstr(t, "  mirror       /mnt/offsite/web01\n"));
	assert_non_null(strstr(t, "  last synced  2026-11-21 01:30"));
	assert_non_null(strstr(t, "  packs read   143 of 1,000 today "
	                          "(14.3%)\n"));
	assert_non_null(strstr(t, "  read mode    rotate/7 (slice 3)\n"));
	assert_non_null(strstr(t, "  coverage     every pack read within the "
	                          "last 7 days\n"));
	/* No line of the report's own layout (the strings from outside
	 * come before it) is wider than 80 columns. */
	{
		const char *p = strstr(t, "\nLAST BACKUP\n"), *nl;

		while ((nl = strchr(p, '\n')) != NULL) {
			assert_true(nl - p <= 80);
			p = nl + 1;
		}
	}
	free(t);
	gfsb_report_fini(&r);
}

static void
test_html_sample(void **state)
{
	struct gfsb_report r;
	char *h;

	(void)state;
	fill_sample(&r);
	h = render(&r, 1);
	maybe_write("report-sample.html", h);
	check_html_safe(h);
	assert_non_null(strstr(h, "<title>[gfsbackup] FAILED web01: s3:s3."));
	assert_non_null(strstr(h, "background:#b02a37;color:#ffffff"));
	assert_true(pos(h, ">FAILED</div>") < pos(h, ">Needs attention</h2>"));
	assert_true(pos(h, ">Needs attention</h2>") < pos(h, ">Stages</h2>"));
	assert_true(pos(h, ">Stages</h2>") < pos(h, ">Last backup</h2>"));
	assert_true(pos(h, ">Last backup</h2>") < pos(h, ">Retention</h2>"));
	assert_true(pos(h, ">Retention</h2>") < pos(h, ">Offsite</h2>"));
	assert_true(pos(h, ">Offsite</h2>") < pos(h, ">Verification</h2>"));
	assert_true(
	    pos(h, ">Verification</h2>") < pos(h, ">Recovery drill</h2>"));
	assert_true(
	    pos(h, ">Recovery drill</h2>") < pos(h, ">GFS timeline</h2>"));
	assert_true(
	    pos(h, ">GFS timeline</h2>") < pos(h, ">Last 30 nights</h2>"));
	assert_true(pos(h, "pack 3fa2c1d0e5: SHA-256 mismatch") <
	            pos(h, ">Stages</h2>"));
	/* Damage lines break between words (an id only if wider than the
	 * line), not inside numbers. */
	assert_null(strstr(h, "break-all"));
	assert_non_null(strstr(h, "overflow-wrap:anywhere;word-wrap:break-word;"
	    "font-family:Menlo"));
	assert_true(pos(h, "gfsbackup repair index --read-data") <
	            pos(h, ">Stages</h2>"));
	assert_non_null(strstr(h, "1,234,567 (120 new, 3,456 changed)"));
	assert_non_null(strstr(h, "(5 h 14 min ago)"));
	assert_non_null(strstr(h, "74.2 MiB after dedup, 27.5 MiB stored"));
	assert_non_null(strstr(h, ">monthly (grandfather)</td>"));
	assert_non_null(strstr(h, "143 of 1,000 today (14.3%)"));
	assert_non_null(strstr(h, "every pack read within the last 7 days"));
	assert_non_null(strstr(h, "max-width:680px"));
	/* A report people open every day stays small. */
	assert_true(strlen(h) < 100 * 1024);
	free(h);
	gfsb_report_fini(&r);
}

static void
test_html_escapes(void **state)
{
	struct gfsb_report r;
	char *h, *t;

	(void)state;
	gfsb_report_init(&r);
	r.host = xstrdup("evil\"><script>alert(1)</script>");
	r.repo = xstrdup("/srv/repo?a=1&b='2'");
	r.policy = xstrdup("keep-tag <b>");
	r.offsite = GFSB_OFFSITE_UNKNOWN;
	r.offsite_error = xstrdup("connect: <iframe>");
	assert_int_equal(gfsb_report_add_damage(&r,
	                     "snapshot 1a2b3c4d "
	                     "/home/a/<script>alert(1)</script>.txt: blob "
	                     "missing"),
	    GFSB_OK);
	assert_int_equal(gfsb_report_add_stage(&r, "<x>", GFSB_REPORT_FAILED,
	                     "\"quoted\" & 'single'"),
	    GFSB_OK);
	h = render(&r, 1);
	check_html_safe(h);
	assert_null(strstr(h, "<iframe"));
	assert_null(strstr(h, "<b>"));
	assert_null(strstr(h, "<x>"));
	assert_non_null(strstr(h, "/home/a/&lt;script&gt;alert(1)&lt;/script"
	                          "&gt;.txt: blob missing"));
	assert_non_null(strstr(h, "evil&quot;&gt;&lt;script&gt;alert(1)&lt;"
	                          "/script&gt; &middot; /srv/repo?a=1&amp;"
	                          "b=&#39;2&#39;</div>"));
	assert_non_null(strstr(h, "<title>[gfsbackup] FAILED evil&quot;&gt;"
	                          "&lt;script&gt;"));
	assert_non_null(strstr(h, "keep-tag &lt;b&gt;"));
	assert_non_null(strstr(h, "&lt;x&gt;"));
	assert_non_null(strstr(h, "&quot;quoted&quot; &amp; &#39;single&#39;"));
	assert_non_null(strstr(h, "unknown</b>: connect: &lt;iframe&gt;"));
	free(h);
	/* The text rendering shows them as they are. */
	t = render(&r, 0);
	assert_non_null(strstr(t, "  host         evil\"><script>alert(1)"
	                          "</script>\n"));
	free(t);
	gfsb_report_fini(&r);
}

static void
test_text_controls(void **state)
{
	struct gfsb_report r;
	char *t, *h;

	(void)state;
	gfsb_report_init(&r);
	r.host = xstrdup("host\r\nX-Injected: 1");
	assert_int_equal(
	    gfsb_report_add_damage(&r, "snapshot 1a2b3c4d "
	                               "/tmp/a\x1b[2Jb\nc.txt: blob missing"),
	    GFSB_OK);
	assert_int_equal(
	    gfsb_report_add_warning(&r, "/home/M\xc3\xbcller/"
	                                "\xe2\x82\xac \xff\xfe x\x7fy \xc2\x9b"
	                                "1m z"),
	    GFSB_OK);
	assert_int_equal(
	    gfsb_report_add_error(&r, "overlong \xc0\xaf, "
	                              "surrogate \xed\xa0\x80, cut \xe2\x82"),
	    GFSB_OK);
	t = render(&r, 0);
	check_text_clean(t);
	assert_null(strchr(t, '\x1b'));
	assert_non_null(strstr(t, "  host         host??X-Injected: 1\n"));
	assert_non_null(strstr(t, "  damage   snapshot 1a2b3c4d "
	                          "/tmp/a?[2Jb?c.txt: blob missing\n"));
	/* Valid UTF-8 stays; C1 controls and stray bytes do not. */
	assert_non_null(strstr(t, "  warning  /home/M\xc3\xbcller/"
	                          "\xe2\x82\xac ?? x?y ??1m z\n"));
	assert_non_null(strstr(t, "  error    overlong ??, surrogate ???, "
	                          "cut ??\n"));
	free(t);
	h = render(&r, 1);
	check_html_safe(h);
	assert_null(strchr(h, '\x1b'));
	assert_null(strchr(h, '\r'));
	assert_non_null(strstr(h, "/tmp/a?[2Jb?c.txt"));
	free(h);
	gfsb_report_fini(&r);
}

static void
add_snap(struct gfsb_report *r, const char *local, unsigned roles)
{
	struct gfsb_report_snap *s;

	s = realloc(r->snaps, (r->nsnaps + 1) * sizeof(*s));
	assert_non_null(s);
	r->snaps = s;
	memset(&s[r->nsnaps], 0, sizeof(s[0]));
	s[r->nsnaps].time = at(local);
	s[r->nsnaps].roles = roles;
	snprintf(s[r->nsnaps].id, sizeof(s[0].id), "%08zx", r->nsnaps);
	r->nsnaps++;
}

/*
 * The cells of one row of the text timeline block labelled from..to, or
 * NULL.  The caller frees it.
 */
static char *
text_row(const char *t, const char *from, const char *to, const char *row)
{
	char label[64], name[32];
	const char *p, *nl;
	char *cells;
	size_t n;

	/* The newest block's label ends with " (today)". */
	snprintf(label, sizeof(label), "\n  %s to %s", from, to);
	snprintf(name, sizeof(name), "    %-8s ", row);
	if ((p = strstr(t, label)) == NULL)
		return NULL;
	p += strlen(label);
	if (strncmp(p, " (today)", 8) == 0)
		p += 8;
	if (*p++ != '\n')
		return NULL;
	/* The rows follow the label, each indented by four spaces. */
	while (strncmp(p, "    ", 4) == 0) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		if (strncmp(p, name, strlen(name)) == 0) {
			p += strlen(name);
			n = (size_t)(nl - p);
			assert_non_null(cells = malloc(n + 1));
			memcpy(cells, p, n);
			cells[n] = '\0';
			return cells;
		}
		p = nl + 1;
	}
	return NULL;
}

/* A row of `n` cells, '#' at the given columns (-1 ends the list). */
static void
expect_row(const char *t, const char *from, const char *to, const char *row,
    size_t n, ...)
{
	char want[256], *got;
	va_list ap;
	int c;

	assert_true(n < sizeof(want));
	memset(want, '.', n);
	want[n] = '\0';
	va_start(ap, n);
	while ((c = va_arg(ap, int)) >= 0) {
		assert_true((size_t)c < n);
		want[c] = '#';
	}
	va_end(ap);
	got = text_row(t, from, to, row);
	if (got == NULL)
		fail_msg("no %s row in block %s to %s", row, from, to);
	assert_string_equal(got, want);
	free(got);
}

/* Snapshots at known ages (days before 2026-11-22): daily 0..6, weekly
 * 0, 7, 14, 21, monthly 21 (11-01), 52 (10-01), 82 (09-01), yearly 325
 * (01-01).  325 days make blocks of 60: [0,59] [60,119] [120,179]
 * [180,239] [240,299] [300,325]; the middle three are empty. */
static void
known_history(struct gfsb_report *r)
{
	gfsb_report_init(r);
	r->host = xstrdup("h");
	r->repo = xstrdup("/r");
	r->now = at("2026-11-22 06:00:00");
	add_snap(r, "2026-01-01 01:00:00", GFSB_ROLE_YEARLY);
	add_snap(r, "2026-09-01 01:00:00", GFSB_ROLE_MONTHLY);
	add_snap(r, "2026-10-01 01:00:00", GFSB_ROLE_MONTHLY);
	add_snap(
	    r, "2026-11-01 01:00:00", GFSB_ROLE_MONTHLY | GFSB_ROLE_WEEKLY);
	add_snap(r, "2026-11-08 01:00:00", GFSB_ROLE_WEEKLY);
	add_snap(r, "2026-11-15 01:00:00", GFSB_ROLE_WEEKLY);
	add_snap(r, "2026-11-16 01:00:00", GFSB_ROLE_DAILY);
	add_snap(r, "2026-11-17 01:00:00", GFSB_ROLE_DAILY);
	add_snap(r, "2026-11-18 01:00:00", GFSB_ROLE_DAILY);
	add_snap(r, "2026-11-19 01:00:00", GFSB_ROLE_DAILY);
	add_snap(r, "2026-11-20 01:00:00", GFSB_ROLE_DAILY);
	add_snap(r, "2026-11-21 01:00:00", GFSB_ROLE_DAILY);
	/* Two today: still one mark per row. */
	add_snap(r, "2026-11-22 00:10:00", GFSB_ROLE_DAILY);
	add_snap(r, "2026-11-22 01:00:00",
	    GFSB_ROLE_DAILY | GFSB_ROLE_WEEKLY | GFSB_ROLE_LAST);
}

static void
test_text_timeline(void **state)
{
	struct gfsb_report r;
	char *t;

	(void)state;
	known_history(&r);
	t = render(&r, 0);
	/* Block 0: ages 59..0 left to right, column = 59 - age. */
	expect_row(t, "2026-09-24", "2026-11-22", "daily", 60, 53, 54, 55, 56,
	    57, 58, 59, -1);
	expect_row(
	    t, "2026-09-24", "2026-11-22", "weekly", 60, 38, 45, 52, 59, -1);
	expect_row(t, "2026-09-24", "2026-11-22", "monthly", 60, 7, 38, -1);
	expect_row(t, "2026-09-24", "2026-11-22", "yearly", 60, -1);
	/* Block 1: ages 119..60, column = 119 - age: 09-01 is age 82. */
	expect_row(t, "2026-07-26", "2026-09-23", "monthly", 60, 37, -1);
	expect_row(t, "2026-07-26", "2026-09-23", "daily", 60, -1);
	/* Blocks 2..4 collapse into one line. */
	assert_non_null(strstr(t, "\n  no snapshot kept from 2026-01-27 to "
	                          "2026-07-25\n"));
	assert_null(strstr(t, "\n  2026-05-28 to 2026-07-25\n"));
	/* Block 5: ages 325..300, 26 days, oldest first. */
	expect_row(t, "2026-01-01", "2026-01-26", "yearly", 26, 0, -1);
	expect_row(t, "2026-01-01", "2026-01-26", "daily", 26, -1);
	/* The newest block says so; under each, where each month begins:
	 * 09-24..09-30 are columns 0..6, 10-01 is 7, 11-01 is 38. */
	assert_non_null(strstr(t, "\n  2026-09-24 to 2026-11-22 (today)\n"));
	assert_non_null(strstr(t, "\n  2026-07-26 to 2026-09-23\n"));
	assert_non_null(strstr(t, "    yearly   " "............................"
	    "................................\n" "              Sep   |Oct"
	    "                           |Nov\n"));
	/* Newest block first. */
	assert_true(pos(t, "  2026-09-24 to 2026-11-22 (today)\n") <
	            pos(t, "  2026-07-26 to 2026-09-23\n"));
	assert_true(pos(t, "  2026-07-26 to 2026-09-23\n") <
	            pos(t, "  no snapshot kept from"));
	assert_true(pos(t, "  no snapshot kept from") <
	            pos(t, "  2026-01-01 to 2026-01-26\n"));
	/* The retention table counts snapshots, not days. */
	assert_non_null(strstr(t, "  daily (son)                8  "
	                          "2026-11-16 01:00  2026-11-22 01:00\n"));
	assert_non_null(strstr(t, "  last                       1  "));
	assert_null(strstr(t, "  hourly "));
	free(t);
	gfsb_report_fini(&r);
}

/* A snapshot kept only by a tag inside an empty stretch, and one dated
 * after the report (a clock error). */
static void
test_timeline_edges(void **state)
{
	struct gfsb_report r;
	char *t, *h;

	(void)state;
	known_history(&r);
	add_snap(&r, "2026-05-01 01:00:00", GFSB_ROLE_TAG);
	add_snap(&r, "2026-11-23 01:00:00", GFSB_ROLE_DAILY);
	t = render(&r, 0);
	assert_non_null(strstr(t,
	    "\n  no daily, weekly, monthly or yearly snapshot from "
	    "2026-01-27 to 2026-07-25\n"));
	assert_non_null(strstr(t, "\n  1 snapshot not drawn: dated after "
	                          "the report or more than a century "
	                          "before\n"));
	assert_non_null(strstr(t, "\n  tag                        1  "
	                          "2026-05-01 01:00  2026-05-01 01:00\n"));
	assert_non_null(strstr(t, "  snapshots    16 held\n"));
	/* Today's block is unchanged by the future snapshot. */
	expect_row(t, "2026-09-24", "2026-11-22", "daily", 60, 53, 54, 55, 56,
	    57, 58, 59, -1);
	free(t);
	h = render(&r, 1);
	check_html_safe(h);
	assert_int_equal(count(h, "title=\"daily "), 7);
	assert_non_null(strstr(h, "1 snapshot not drawn"));
	free(h);
	gfsb_report_fini(&r);
}

/* The widths (colspan) of the day cells of each timeline row of the HTML
 * block starting at `from`; every row must cover `days` days. */
static void
check_html_block(
    const char *h, const char *from, const char *to, size_t days, size_t rows)
{
	const char *p, *end, *rowend;
	char label[64];
	size_t n, span, seen = 0;
	int today = strcmp(from, "2026-05-25") == 0;

	/* The newest block: "(today)", and a line and a label after the
	 * days, in every row. */
	snprintf(label, sizeof(label), ">%s &ndash; %s%s</td></tr>", from, to,
	    today ? " (today)" : "");
	if ((p = strstr(h, label)) == NULL)
		fail_msg("no block %s to %s", from, to);
	assert_non_null(end = strstr(p, "</table>"));
	while (
	    (p = strstr(p, "<tr><td style=\"width:58px")) != NULL && p < end) {
		rowend = strstr(p, "</tr>");
		p = strstr(p + 1, "</td>") + 5; /* the row label */
		n = 0;
		while ((p = strstr(p, "<td")) != NULL && p < rowend) {
			span = 1;
			if (strncmp(p, "<td colspan=\"", 13) == 0)
				span = strtoul(p + 13, NULL, 10);
			n += span;
			p += 3;
		}
		assert_int_equal(n, days + (today ? 2 : 0));
		p = rowend;
		seen++;
	}
	assert_int_equal(seen, rows);
}

/* Two retention groups (the night's files and a database dump): each
 * has its own table, saying whose it is; and one group has none. */
static void
test_retention_groups(void **state)
{
	struct gfsb_report r;
	char *t, *h;
	size_t i;

	(void)state;
	known_history(&r);
	assert_non_null(r.groups = calloc(2, sizeof(*r.groups)));
	r.groups[0] = xstrdup("web1: /etc /srv");
	r.groups[1] = xstrdup("web1: /postgresql-billing.sql");
	r.ngroups = 2;
	for (i = 0; i < r.nsnaps; i++)
		r.snaps[i].group = i % 3 == 0;
	t = render(&r, 0);
	assert_non_null(strstr(t, "  group        web1: /etc /srv (9 held)\n"
	    "  role                    held  oldest            newest\n"));
	assert_non_null(strstr(t, "  group        web1: /postgresql-billing.sql"
	    " (5 held)\n"));
	assert_true(pos(t, "  group        web1: /etc") <
	    pos(t, "  group        web1: /postgresql"));
	assert_non_null(strstr(t, "  snapshots    14 held\n"));
	h = render(&r, 1);
	check_html_safe(h);
	assert_non_null(strstr(h, "<b>web1: /postgresql-billing.sql</b> "
	    "<span style=\"color:#57606a\">(5 held)</span>"));
	assert_int_equal(count(h, ">held</th>"), 2);
	free(h);
	/* One group: no group lines. */
	r.ngroups = 1;
	t = (free(t), render(&r, 0));
	r.ngroups = 2;
	assert_null(strstr(t, "  group "));
	free(t);
	gfsb_report_fini(&r);
}

static void
test_html_timeline(void **state)
{
	struct gfsb_report r;
	char *h;

	(void)state;
	known_history(&r);
	h = render(&r, 1);
	check_html_safe(h);
	/* One marked cell per day and role. */
	assert_int_equal(count(h, "title=\"daily "), 7);
	assert_int_equal(count(h, "title=\"weekly "), 4);
	assert_int_equal(count(h, "title=\"monthly "), 3);
	assert_int_equal(count(h, "title=\"yearly "), 1);
	assert_non_null(strstr(h, "title=\"monthly 2026-09-01\""));
	assert_non_null(strstr(h, "title=\"yearly 2026-01-01\""));
	/* 326 days: blocks of 182 (ages 0..181) and 144, each row covering
	 * them all with merged empty runs. */
	check_html_block(h, "2026-05-25", "2026-11-22", 182, 4);
	check_html_block(h, "2026-01-01", "2026-05-24", 144, 4);
	/* The newest block: the daily row is one empty run of 175 days
	 * and 7 marks. */
	assert_non_null(strstr(h, "<td colspan=\"175\" style=\"width:525px;"));
	/* Under each block, a tick and a name where each month begins, and
	 * the newest ends at today. */
	assert_non_null(strstr(h, ";border-left:1px solid #57606a\">Oct</td>"));
	assert_non_null(strstr(h, ";border-left:1px solid #57606a\">Jan 2026"
	    "</td>"));
	assert_int_equal(count(h, ">today</td>"), 1);
	free(h);
	gfsb_report_fini(&r);
}

static void
test_compliance_ten_years(void **state)
{
	struct gfsb_report r;
	size_t i, daily = 0;
	char *h, *t;

	(void)state;
	fill_sample(&r);
	free(r.snaps);
	r.snaps = NULL;
	r.nsnaps = 0;
	gfs_history(&r, 3653, 7, 4, 12, 10);
	assert_true(r.nsnaps >= 28 && r.nsnaps <= 33);
	for (i = 0; i < r.nsnaps; i++)
		daily += (r.snaps[i].roles & GFSB_ROLE_DAILY) != 0;
	h = render(&r, 1);
	check_html_safe(h);
	print_message("10-year history: %zu snapshots, HTML %zu bytes\n",
	    r.nsnaps, strlen(h));
	maybe_write("report-sample-10y.html", h);
	assert_true(strlen(h) < 100 * 1024);
	assert_true(count(h, "no snapshot kept from ") >= 5);
	assert_int_equal(count(h, "title=\"daily "), daily);
	assert_int_equal(count(h, "title=\"yearly "), 10);
	/* Ten years of 182-day blocks, most of them collapsed. */
	assert_true(count(h, "&ndash;") < 20);
	t = render(&r, 0);
	maybe_write("report-sample-10y.txt", t);
	check_text_clean(t);
	assert_true(count(t, "\n  no snapshot kept from ") >= 5);
	assert_true(strlen(t) < 40 * 1024);
	free(t);
	free(h);
	gfsb_report_fini(&r);
}

static void
test_no_snapshots(void **state)
{
	struct gfsb_report r;
	char *h, *t;

	(void)state;
	gfsb_report_init(&r);
	r.host = xstrdup("new-host");
	r.repo = xstrdup("/srv/backup");
	r.now = at("2026-11-22 06:00:00");
	t = render(&r, 0);
	assert_int_equal(pos(t, "gfsbackup: OK\n"), 0);
	assert_null(strstr(t, "NEEDS ATTENTION"));
	assert_null(strstr(t, "STAGES"));
	assert_non_null(strstr(t, "\nLAST BACKUP\n  no snapshot in the "
	                          "repository\n"));
	assert_non_null(strstr(t, "\nRETENTION\n  snapshots    0 held\n"
	                          "  policy       no retention policy given\n"
	                          "  retention    not run in this job\n"
	                          "  prune        not run in this job\n"));
	assert_non_null(strstr(t, "\nOFFSITE\n  state        none "
	                          "configured\n"));
	assert_non_null(strstr(t, "\nVERIFICATION\n  not run in this job\n"
	                          "\nRECOVERY DRILL\n  no restore drill "
	                          "recorded; `[verify] drill = SIZE` runs one "
	                          "on schedule\n\nGFS TIMELINE\n"));
	assert_non_null(strstr(t, "\nGFS TIMELINE\n  no snapshot held\n"));
	assert_non_null(strstr(t, "\nLAST 30 NIGHTS\n  no figures for the "
	                          "last 30 nights\n"));
	free(t);
	h = render(&r, 1);
	check_html_safe(h);
	assert_non_null(strstr(h, "background:#1e7e34;color:#ffffff"));
	assert_non_null(strstr(h, "no snapshot in the repository"));
	assert_non_null(strstr(h, "no snapshot held"));
	assert_non_null(strstr(h, "no retention policy given"));
	assert_non_null(strstr(h, ">Recovery drill</h2>\n<p style=\"margin:0\">"
	                          "no restore drill recorded; <span style=\""
	                          "font-family:Menlo,Consolas,monospace;"
	                          "font-size:13px\">[verify] drill = SIZE"
	                          "</span> in the configuration runs one on "
	                          "schedule</p>"));
	assert_null(strstr(h, "Needs attention"));
	free(h);
	/* Snapshots kept by no GFS rule (no policy known). */
	add_snap(&r, "2026-11-21 01:00:00", 0);
	t = render(&r, 0);
	assert_non_null(strstr(t, "  snapshots    1 held\n"));
	assert_non_null(strstr(t, "no snapshot is kept by a daily, weekly, "
	                          "monthly or yearly rule"));
	free(t);
	gfsb_report_fini(&r);
}

/* The text chart line of night `md`: its bar, size and new data. */
static void
chart_line(const char *t, const char *md, char *bar, char *rest)
{
	char key[16];
	const char *p, *nl;
	size_t n;

	snprintf(key, sizeof(key), "\n  %s  ", md);
	p = strstr(t, "\nLAST 30 NIGHTS\n");
	assert_non_null(p);
	if ((p = strstr(p, key)) == NULL)
		fail_msg("no chart line for %s", md);
	p += strlen(key);
	nl = strchr(p, '\n');
	/* 30 columns of bar, two spaces, then the figures. */
	assert_true(nl - p > 32);
	memcpy(bar, p, 30);
	bar[30] = '\0';
	n = strcspn(bar, " ");
	bar[n] = '\0';
	p += 32;
	while (*p == ' ')
		p++;
	memcpy(rest, p, (size_t)(nl - p));
	rest[nl - p] = '\0';
}

static void
test_chart(void **state)
{
	struct gfsb_report r;
	char bar[64], rest[128], *t, *h;
	const char *p;
	size_t i;

	(void)state;
	fill_sample(&r);
	/* Night 29 is the largest, night 12 unknown, night 0 half of the
	 * largest, night 5 exactly zero new data. */
	for (i = 0; i < GFSB_REPORT_DAYS; i++)
		r.days[i].repo_size = 1000;
	r.days[0].repo_size = 1000;
	r.days[29].repo_size = 2000;
	r.days[12].repo_size = -1;
	r.days[5].new_data = 0;
	t = render(&r, 0);
	chart_line(t, "11-22", bar, rest);
	assert_int_equal(strlen(bar), 30);
	assert_int_equal(strspn(bar, "#+"), 30);
	assert_string_equal(rest, "1.95 KiB  +27.5 MiB");
	chart_line(t, "10-24", bar, rest);
	assert_int_equal(strlen(bar), 15);
	assert_int_equal(strspn(bar, "#+"), 15);
	chart_line(t, "11-05", bar, rest); /* night 12 */
	assert_string_equal(bar, "?");
	assert_string_equal(rest, "?  ?");
	chart_line(t, "10-29", bar, rest); /* night 5 */
	assert_string_equal(rest, "1000 B  +0 B");
	assert_string_equal(bar, "###############");
	free(t);
	/* The stacked bar: 1 GiB held, of it 256 MiB new, on the largest
	 * night: 30 columns, the last 8 of them '+'. */
	r.days[29].repo_size = (int64_t)GiB;
	r.days[29].new_data = (int64_t)(256 * MiB);
	t = render(&r, 0);
	chart_line(t, "11-22", bar, rest);
	assert_string_equal(bar, "######################++++++++");
	assert_string_equal(rest, "1.00 GiB  +256 MiB");
	free(t);
	r.days[29].repo_size = 2000;
	r.days[29].new_data = (int64_t)(27.5 * MiB);

	h = render(&r, 1);
	check_html_safe(h);
	/* Repository size: the largest night has the full 60 px. */
	p = strstr(h, "title=\"2026-11-22: 1.95 KiB (2000 bytes)\">");
	assert_non_null(p);
	p = strstr(p, "height:");
	assert_int_equal(strncmp(p, "height:60px;", 12), 0);
	p = strstr(h, "title=\"2026-10-24: 1000 B (1000 bytes)\">");
	assert_non_null(p);
	p = strstr(p, "height:");
	assert_int_equal(strncmp(p, "height:30px;", 12), 0);
	/* The unknown night: a grey stub in both charts. */
	assert_int_equal(count(h, "title=\"2026-11-05: unknown\"><table "
	                          "role=\"presentation\" cellpadding=\"0\" "
	                          "cellspacing=\"0\" width=\"100%\"><tr><td "
	                          "style=\"height:3px;background:#d0d4d9;"),
	    2);
	/* New data: the 340 MiB night is the largest; zero is a 1 px line. */
	p = strstr(h, "title=\"2026-11-18: 340 MiB (356515840 bytes)\">");
	assert_non_null(p);
	assert_int_equal(strncmp(strstr(p, "height:"), "height:60px;", 12), 0);
	p = strstr(h, "title=\"2026-10-29: 0 B (0 bytes)\">");
	assert_non_null(p);
	assert_int_equal(strncmp(strstr(p, "height:"), "height:1px;", 11), 0);
	/* 30 columns and 5 date labels per chart. */
	assert_int_equal(count(h, "vertical-align:bottom;padding:0 1px\""), 60);
	assert_int_equal(count(h, ">10-24</td>"), 2);
	assert_int_equal(count(h, ">11-22</td>"), 2);
	free(h);
	gfsb_report_fini(&r);
}

/* The value of the line `key` in the text's RECOVERY DRILL section. */
static void
drill_line(const char *t, const char *key, char *buf, size_t len)
{
	char want[32];
	const char *p, *end, *nl;

	snprintf(want, sizeof(want), "\n  %-13s", key);
	assert_non_null(p = strstr(t, "\nRECOVERY DRILL\n"));
	assert_non_null(end = strstr(p, "\nGFS TIMELINE\n"));
	if ((p = strstr(p, want)) == NULL || p > end)
		fail_msg("no drill line %s", key);
	p += strlen(want);
	nl = strchr(p, '\n');
	assert_true((size_t)(nl - p) < len);
	memcpy(buf, p, (size_t)(nl - p));
	buf[nl - p] = '\0';
}

/* The projection as the text shows it, for `seconds`. */
static void
expect_projected(struct gfsb_report *r, double seconds, const char *want)
{
	char got[128], line[160];
	char *t;

	r->drill.projected = seconds;
	t = render(r, 0);
	drill_line(t, "projected", got, sizeof(got));
	snprintf(line, sizeof(line),
	    "%s to restore all 1,234,567 files, 45.2 GiB", want);
	assert_string_equal(got, line);
	free(t);
}

static void
add_failed(struct gfsb_report *r, const char *line)
{
	char **v;

	v = realloc(
	    r->drill.failed_files, (r->drill.nfailed_files + 1) * sizeof(*v));
	assert_non_null(v);
	r->drill.failed_files = v;
	v[r->drill.nfailed_files++] = xstrdup(line);
}

static void
test_drill_text(void **state)
{
	struct gfsb_report r;
	const char *p, *nl;
	char v[128], *t;

	(void)state;
	fill_sample(&r);
	t = render(&r, 0);
	assert_non_null(strstr(t,
	    "\nRECOVERY DRILL\n"
	    "  ran          2026-11-22 02:10 (tonight)\n"
	    "  snapshot     1a2b3c4d\n"
	    "  from         /mnt/offsite/web01\n"
	    "  sample       412 files, 1.20 GiB (2.7% of the snapshot)\n"
	    "  rate         5.76 MiB/s\n"
	    "  projected    2 h 14 min to restore all 1,234,567 files, "
	    "45.2 GiB\n"
	    "  RTO          within the objective of 4 h\n"
	    "  result       every file came back intact\n"
	    "\nGFS TIMELINE\n"));
	free(t);

	/* Rounded up, two units at most; an exact hour has no minutes. */
	expect_projected(&r, 8040, "2 h 14 min");
	expect_projected(&r, 8040.2, "2 h 15 min");
	expect_projected(&r, 2280, "38 min");
	expect_projected(&r, 2221, "38 min");
	expect_projected(&r, 45, "45 s");
	expect_projected(&r, 59.5, "1 min");
	expect_projected(&r, 0.3, "1 s");
	expect_projected(&r, 14400, "4 h");
	expect_projected(&r, 90000, "25 h");
	expect_projected(&r, -1, "unknown");

	/* The objective, both ways: equal is within, a second over is not
	 * (and the rounding up shows why). */
	r.drill.projected = 14400;
	t = render(&r, 0);
	drill_line(t, "RTO", v, sizeof(v));
	assert_string_equal(v, "within the objective of 4 h");
	free(t);
	r.drill.projected = 14401;
	t = render(&r, 0);
	drill_line(t, "RTO", v, sizeof(v));
	assert_string_equal(v, "EXCEEDS the objective of 4 h");
	drill_line(t, "projected", v, sizeof(v));
	assert_int_equal(strncmp(v, "4 h 1 min to restore", 20), 0);
	free(t);
	r.drill.rto = 2280;
	t = render(&r, 0);
	drill_line(t, "RTO", v, sizeof(v));
	assert_string_equal(v, "EXCEEDS the objective of 38 min");
	free(t);
	/* No objective: no line. */
	r.drill.rto = 0;
	t = render(&r, 0);
	assert_null(strstr(t, "  RTO "));
	assert_null(strstr(t, "objective"));
	free(t);

	/* An earlier job's drill: calendar days before the report. */
	r.drill.ran = 0;
	r.drill.when = at("2026-11-19 23:50:00");
	t = render(&r, 0);
	drill_line(t, "ran", v, sizeof(v));
	assert_string_equal(v, "2026-11-19 23:50 (3 days ago)");
	free(t);
	r.drill.when = at("2026-11-21 02:10:00");
	t = render(&r, 0);
	drill_line(t, "ran", v, sizeof(v));
	assert_string_equal(v, "2026-11-21 02:10 (yesterday)");
	free(t);

	/* Files that did not come back, as many as are named and a count
	 * of the rest; the layout stays within 72 columns. */
	r.drill.failed = 3;
	add_failed(&r, "/srv/www/shop/img/a.png: SHA-256 mismatch");
	add_failed(&r, "/srv/www/<b>&.txt: missing");
	t = render(&r, 0);
	check_text_clean(t);
	assert_non_null(strstr(t,
	    "  result       FAILED: 3 files did not come back intact\n"
	    "               /srv/www/shop/img/a.png: SHA-256 mismatch\n"
	    "               /srv/www/<b>&.txt: missing\n"
	    "               (and 1 more)\n"
	    "\nGFS TIMELINE\n"));
	p = strstr(t, "\nRECOVERY DRILL\n") + 1;
	while ((nl = strchr(p, '\n')) != NULL && nl != p) {
		assert_true(nl - p <= 72);
		p = nl + 1;
	}
	free(t);
	r.drill.failed = 1;
	free(r.drill.failed_files[1]);
	r.drill.nfailed_files = 1;
	t = render(&r, 0);
	assert_non_null(strstr(t, "  result       FAILED: 1 file did not "
	                          "come back intact\n"
	                          "               /srv/www/shop/img/a.png: "
	                          "SHA-256 mismatch\n\n"));
	free(t);
	gfsb_report_fini(&r);
}

static void
test_drill_html(void **state)
{
	struct gfsb_report r;
	char *h;

	(void)state;
	fill_sample(&r);
	h = render(&r, 1);
	check_html_safe(h);
	assert_true(pos(h, ">Recovery drill</h2>") <
	            pos(h, "2026-11-22 02:10 <span style=\"color:#57606a\">"
	                   "(tonight)</span>"));
	assert_non_null(strstr(h, ">412 files, 1.20 GiB (2.7% of the "
	                          "snapshot)</td>"));
	assert_non_null(strstr(h, ">5.76 MiB/s</td>"));
	assert_non_null(strstr(h, ">2 h 14 min to restore all 1,234,567 "
	                          "files, 45.2 GiB</td>"));
	assert_non_null(strstr(h, ">within the objective of 4 h</td>"));
	assert_non_null(strstr(h, ">every file came back intact</td>"));
	assert_null(strstr(h, "EXCEEDS"));
	free(h);

	r.drill.projected = 14401;
	r.drill.failed = 2;
	add_failed(&r, "/srv/www/<b>&.txt: missing");
	h = render(&r, 1);
	check_html_safe(h);
	assert_non_null(strstr(h, "<b style=\"color:#b02a37\">EXCEEDS the "
	                          "objective of 4 h</b>"));
	assert_non_null(strstr(h, "<b style=\"color:#b02a37\">FAILED: 2 "
	                          "files did not come back intact</b>"));
	assert_non_null(strstr(h, ";overflow-wrap:anywhere\">/srv/www/&lt;b&gt;"
	                          "&amp;.txt: missing</div>"));
	assert_null(strstr(h, "<b>")); /* nor "<b>&" */
	assert_non_null(strstr(h, ">(and 1 more)</div>"));
	free(h);
	gfsb_report_fini(&r);
}

static void
test_empty(void **state)
{
	struct gfsb_report r;
	char *t, *h;

	(void)state;
	gfsb_report_init(&r);
	t = render(&r, 0);
	check_text_clean(t);
	assert_int_equal(pos(t, "gfsbackup: OK\n"), 0);
	assert_non_null(strstr(t, "  host         ?\n"));
	assert_null(strstr(t, "repair index")); /* no damage, no advice */
	free(t);
	h = render(&r, 1);
	check_html_safe(h);
	free(h);
	gfsb_report_fini(&r);
}

/* Appending keeps what was in the buffer. */
static void
test_appends(void **state)
{
	struct gfsb_report r;
	struct gfsb_buf b;

	(void)state;
	gfsb_report_init(&r);
	gfsb_buf_init(&b);
	assert_int_equal(gfsb_buf_append(&b, "X", 1), GFSB_OK);
	assert_int_equal(gfsb_report_render_text(&r, &b), GFSB_OK);
	assert_int_equal(
	    strncmp((const char *)b.data, "Xgfsbackup: OK\n", 15), 0);
	gfsb_buf_fini(&b);
	gfsb_report_fini(&r);
}

/* Europe/Berlin: 2026-03-29 has 23 hours, 2026-10-25 has 25.  Snapshots
 * just before and after midnight land on their own local days. */
static void
test_dst_berlin(void **state)
{
	struct gfsb_report r;
	char a[16], b[16], *t, *h;
	struct tm tm;
	size_t i;

	(void)state;
	tz("Europe/Berlin");
	gfsb_report_init(&r);
	r.host = xstrdup("h");
	r.repo = xstrdup("/r");
	r.now = at("2026-10-27 08:00:00");
	add_snap(&r, "2026-03-28 23:59:00", GFSB_ROLE_DAILY);
	add_snap(&r, "2026-03-29 23:59:00", GFSB_ROLE_DAILY);
	add_snap(&r, "2026-03-30 00:01:00", GFSB_ROLE_MONTHLY);
	add_snap(&r, "2026-10-24 23:30:00", GFSB_ROLE_DAILY);
	add_snap(&r, "2026-10-25 00:30:00", GFSB_ROLE_WEEKLY);
	add_snap(&r, "2026-10-25 23:30:00", GFSB_ROLE_DAILY);
	add_snap(&r, "2026-10-26 00:30:00", GFSB_ROLE_DAILY);
	r.has_backup = 1;
	memcpy(r.backup_id, "0badf00d", 9);
	r.backup_time = at("2026-10-25 00:30:00");
	for (i = 0; i < GFSB_REPORT_DAYS; i++) {
		tm = day_before(&r.now, (int)(GFSB_REPORT_DAYS - 1 - i));
		tm.tm_hour = 0;
		tm.tm_isdst = -1;
		r.days[i].day.sec = mktime(&tm);
		r.days[i].repo_size = (int64_t)(i + 1) * 100;
		r.days[i].new_data = 10;
	}
	t = render(&r, 0);
	/* 2026-03-28 is 213 days before 2026-10-27. */
	assert_string_equal(
	    date_before(&r.now, 213, a, sizeof(a)), "2026-03-28");
	/* Block 0 (ages 59..0): 10-24 is age 3, 10-25 age 2, 10-26 age 1. */
	expect_row(t, date_before(&r.now, 59, a, sizeof(a)), "2026-10-27",
	    "daily", 60, 56, 57, 58, -1);
	expect_row(t, date_before(&r.now, 59, a, sizeof(a)), "2026-10-27",
	    "weekly", 60, 57, -1);
	/* Block 3 (ages 213..180): 03-28 and 03-29 daily, 03-30 monthly. */
	expect_row(t, "2026-03-28", date_before(&r.now, 180, b, sizeof(b)),
	    "daily", 34, 0, 1, -1);
	expect_row(t, "2026-03-28", date_before(&r.now, 180, b, sizeof(b)),
	    "monthly", 34, 2, -1);
	assert_non_null(strstr(t, "  no snapshot kept from "));
	/* 30 nights, one line each, consecutive across the long day. */
	assert_int_equal(count(t, "\n  10-25  "), 1);
	assert_true(pos(t, "\n  10-24  ") < pos(t, "\n  10-25  "));
	assert_true(pos(t, "\n  10-25  ") < pos(t, "\n  10-26  "));
	assert_true(pos(t, "\n  10-26  ") < pos(t, "\n  10-27  "));
	assert_non_null(strstr(t, "(2 days ago)"));
	free(t);
	h = render(&r, 1);
	check_html_safe(h);
	assert_int_equal(count(h, "title=\"daily "), 5);
	assert_non_null(strstr(h, "title=\"daily 2026-03-28\""));
	assert_non_null(strstr(h, "title=\"daily 2026-03-29\""));
	assert_non_null(strstr(h, "title=\"monthly 2026-03-30\""));
	assert_non_null(strstr(h, "title=\"weekly 2026-10-25\""));
	assert_non_null(strstr(h, "title=\"daily 2026-10-26\""));
	assert_non_null(strstr(h, "title=\"2026-10-25: "));
	assert_int_equal(count(h, "title=\"2026-10-25: "), 2);
	free(h);
	gfsb_report_fini(&r);
	tz("UTC");
}

/* The coverage line: "today", a day, new packs waiting (not amber),
 * packs overdue (amber in HTML, and a warning from the verification). */
static void
test_coverage_words(void **state)
{
	static const struct {
		int64_t days;
		uint64_t never, overdue;
		const char *text;
		int amber;
	} c[] = {
		{ 0, 0, 0, "every pack read today", 0 },
		{ 0, 3, 0, "every pack read within the last 1 day; new packs "
		    "wait for their night", 0 },
		{ 6, 0, 0, "every pack read within the last 7 days", 0 },
		{ -1, 19, 0, "19 packs never read yet", 1 },
		{ -1, 19, 1, "1 pack never read though their night has passed",
		    1 },
	};
	struct gfsb_report r;
	char *t, *h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		gfsb_report_init(&r);
		r.verify_ran = 1;
		r.read_mode = xstrdup("rotate/7");
		r.days_since_all_read = c[i].days;
		r.packs_never_read = c[i].never;
		r.packs_overdue = c[i].overdue;
		t = render(&r, 0);
		h = render(&r, 1);
		if (strstr(t, c[i].text) == NULL)
			fail_msg("case %zu: text lacks \"%s\"", i, c[i].text);
		assert_non_null(strstr(h, c[i].text));
		assert_int_equal(strstr(h, "#b36b00\">") != NULL &&
		    strstr(strstr(h, "#b36b00\">"), c[i].text) != NULL,
		    c[i].amber);
		assert_null(strstr(t, "last 0 days"));
		free(t);
		free(h);
		gfsb_report_fini(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_rises),
	    cmocka_unit_test(test_subject),
	    cmocka_unit_test(test_text_sample),
	    cmocka_unit_test(test_coverage_words),
	    cmocka_unit_test(test_html_sample),
	    cmocka_unit_test(test_html_escapes),
	    cmocka_unit_test(test_text_controls),
	    cmocka_unit_test(test_text_timeline),
	    cmocka_unit_test(test_html_timeline),
	    cmocka_unit_test(test_retention_groups),
	    cmocka_unit_test(test_timeline_edges),
	    cmocka_unit_test(test_compliance_ten_years),
	    cmocka_unit_test(test_no_snapshots),
	    cmocka_unit_test(test_chart),
	    cmocka_unit_test(test_drill_text),
	    cmocka_unit_test(test_drill_html),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_appends),
	    cmocka_unit_test(test_dst_berlin),
	};

	tz("UTC");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
