/*
 * What the commands print about a result or a progress, told by the
 * library (the engines' *_lines, *_line and *_summary functions): every
 * line checked exactly, singular and plural, dry run and not, on results
 * built by hand.  Times are shown in UTC here (TZ=UTC).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/util.h>

/* 2024-05-01 10:00:00 UTC */
#define T0 1714557600

#define MAXLINES 64

/* The lines a *_lines function handed on, with their kinds. */
struct lines {
	char *line[MAXLINES];
	enum gfsb_ops_line kind[MAXLINES];
	size_t n;
};

static void
collect(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	struct lines *l = cookie;

	assert_true(l->n < MAXLINES);
	assert_null(strchr(line, '\n'));
	l->kind[l->n] = kind;
	l->line[l->n] = strdup(line);
	assert_non_null(l->line[l->n]);
	l->n++;
}

/* The lines were exactly these results, NULL-terminated. */
static void
expect(struct lines *l, ...)
{
	const char *want;
	va_list ap;
	size_t i = 0;

	va_start(ap, l);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < l->n);
		assert_string_equal(l->line[i], want);
		assert_int_equal(l->kind[i], GFSB_OPS_LINE_RESULT);
		i++;
	}
	va_end(ap);
	assert_int_equal(l->n, i);
	for (i = 0; i < l->n; i++)
		free(l->line[i]);
	l->n = 0;
}

static int
utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* ---- sync ---- */

static void
test_sync_progress(void **state)
{
	struct gfsb_sync_progress p = { 120, 400, 5 << 20, 10 << 20, 62.5 };
	char line[256];

	(void)state;
	gfsb_ops_sync_progress_line(&p, line, sizeof(line));
	assert_string_equal(line, "[1:02] 120 of 400 objects, 5.00 MiB of "
	    "10.0 MiB, 0.1 MB/s");
}

static void
test_sync_dry_run(void **state)
{
	struct gfsb_sync_result res;
	struct lines l = { .n = 0 };

	(void)state;
	memset(&res, 0, sizeof(res));
	res.copied = 7;
	res.deleted = 2;
	res.present = 40;
	res.kept = 3;	/* a dry run says what it would do, and no more */
	assert_int_equal(gfsb_ops_sync_lines(&res, 1, collect, &l), GFSB_OK);
	expect(&l, "would copy 7 objects, delete 2; 40 already at the mirror "
	    "(dry run: nothing was changed)", NULL);
}

static void
test_sync_result(void **state)
{
	struct gfsb_sync_result res, none;
	struct lines l = { .n = 0 };

	(void)state;
	memset(&res, 0, sizeof(res));
	res.copied = 7;
	res.copied_bytes = 3 << 20;
	res.present = 40;
	res.deleted = 2;
	res.failed = 1;
	res.seconds = 2;
	assert_int_equal(gfsb_ops_sync_lines(&res, 0, collect, &l), GFSB_OK);
	expect(&l, "copied 7 objects (3.00 MiB), 40 already present, deleted "
	    "2, 1 failed in 2.0 s (1.6 MB/s)", NULL);
	/* What sync says: quiet when it succeeded; a failure after it
	 * began tells what it did; one refused before, nothing. */
	assert_int_equal(gfsb_ops_sync_told(GFSB_OK, &res, 0, 1, 0, collect,
	    &l), GFSB_OK);
	expect(&l, NULL);
	assert_int_equal(gfsb_ops_sync_told(GFSB_ENET, &res, 0, 1, 0, collect,
	    &l), GFSB_OK);
	expect(&l, "copied 7 objects (3.00 MiB), 40 already present, deleted "
	    "2, 1 failed in 2.0 s (1.6 MB/s)", NULL);
	memset(&none, 0, sizeof(none));
	assert_int_equal(gfsb_ops_sync_told(GFSB_EINVAL, &none, 0, 0, 1,
	    collect, &l), GFSB_OK);
	assert_int_equal(l.n, 2);
	assert_true(strncmp(l.line[0], "source: ", 8) == 0);
	assert_true(strncmp(l.line[1], "mirror: ", 8) == 0);
	expect(&l, l.line[0], l.line[1], NULL);

	res.initialized = 1;
	res.kept = 3;
	res.index_written = 1;
	res.delete_refused = 1;
	res.keys_kept = 2;
	res.locked = GFSB_LOCK_COMPLIANCE;
	res.locks.extended = 5;
	res.locks.requests = 9;
	res.locks.seconds = 0.25;
	res.locks.waiting = 4;
	res.locks.waiting_until = T0;
	assert_int_equal(gfsb_ops_sync_lines(&res, 0, collect, &l), GFSB_OK);
	expect(&l, "created the mirror; copied 7 objects (3.00 MiB), 40 "
	    "already present, deleted 2, 1 failed in 2.0 s (1.6 MB/s)",
	    "kept 3 objects the source no longer has; wrote an index for the "
	    "mirror alone, naming what it keeps",
	    "1 deletion refused by the storage: kept, and what they need "
	    "indexed",
	    "2 key files only at the mirror (kept)",
	    "Object Lock (compliance): 5 locks extended, 9 requests in 0.2 s; "
	    "4 objects the source deleted wait on their locks, until "
	    "2024-05-01 10:00:00 at the latest", NULL);

	res.index_written = 0;
	res.delete_refused = 2;
	res.keys_kept = 1;
	res.locks.waiting = 0;
	res.locked = GFSB_LOCK_GOVERNANCE;
	assert_int_equal(gfsb_ops_sync_lines(&res, 0, collect, &l), GFSB_OK);
	expect(&l, "created the mirror; copied 7 objects (3.00 MiB), 40 "
	    "already present, deleted 2, 1 failed in 2.0 s (1.6 MB/s)",
	    "kept 3 objects the source no longer has",
	    "2 deletions refused by the storage: kept, and what they need "
	    "indexed",
	    "1 key file only at the mirror (kept)",
	    "Object Lock (governance): 5 locks extended, 9 requests in 0.2 s",
	    NULL);
}

/* ---- prune ---- */

static void
prune_result(struct gfsb_prune_result *res)
{
	memset(res, 0, sizeof(*res));
	res->snapshots = 3;
	res->st.blobs = 100;
	res->st.blobs_unused = 10;
	res->st.unused_bytes = 2048;
	res->st.packs = 8;
	res->st.packs_deleted = 2;
	res->st.packs_repacked = 1;
	res->st.bytes_repacked = 5000;
	res->st.bytes_copied = 4000;
	res->st.unindexed_deleted = 1;
	res->st.bytes_freed = 1 << 20;
	res->st.unused_bytes_after = 512;
	res->seconds = 1.25;
}

static void
test_prune(void **state)
{
	struct gfsb_prune_result res;
	struct lines l = { .n = 0 };

	(void)state;
	prune_result(&res);
	assert_int_equal(gfsb_ops_prune_lines(&res, 0.05, 1, collect, &l),
	    GFSB_OK);
	expect(&l, "3 snapshots use 90 of 100 blobs; 10 unused (2.00 KiB)",
	    "would delete 2 of 8 packs with nothing used, repack 1 (4.88 KiB "
	    "of used data copied), delete 1 unindexed",
	    "would free about 1.00 MiB; 512 B unused left in kept packs "
	    "(under 5% each) in 1.2 s (dry run: nothing was changed)", NULL);

	res.leftovers = 4;
	res.st.waiting = 6;
	res.st.waiting_until = T0;
	assert_int_equal(gfsb_ops_prune_lines(&res, 0.125, 0, collect, &l),
	    GFSB_OK);
	expect(&l, "3 snapshots use 90 of 100 blobs; 10 unused (2.00 KiB)",
	    "deleted 2 of 8 packs with nothing used, repacked 1 (3.91 KiB of "
	    "used data copied into new packs), deleted 1 unindexed",
	    "freed 1.00 MiB; 512 B unused left in kept packs (under 12.5% "
	    "each) in 1.2 s",
	    "removed 4 leftovers of interrupted writes (temporary files, "
	    "unfinished uploads)",
	    "6 objects wait on their Object Lock, until 2024-05-01 10:00:00 "
	    "at the latest; a later run deletes them", NULL);
}

static void
test_prune_waiting(void **state)
{
	char line[256];

	(void)state;
	gfsb_ops_prune_waiting_line("snapshots", 2, 0, line, sizeof(line));
	assert_string_equal(line, "2 snapshots the storage would not delete "
	    "yet; a later run deletes them");
	gfsb_ops_prune_waiting_line("objects", 1, T0 + 86400, line,
	    sizeof(line));
	assert_string_equal(line, "1 objects wait on their Object Lock, until "
	    "2024-05-02 10:00:00 at the latest; a later run deletes them");
}

/* ---- repair index ---- */

static void
test_repair(void **state)
{
	struct gfsb_index_repair_stats st;
	struct lines l = { .n = 0 };

	(void)state;
	memset(&st, 0, sizeof(st));
	st.packs = 10;
	st.packs_indexed = 9;
	st.blobs = 500;
	st.blobs_before = 520;
	st.index_files = 3;
	st.index_damaged = 1;
	st.packs_adopted = 1;
	st.packs_missing = 2;
	st.packs_unreadable = 1;
	st.blobs_damaged = 1;
	st.packs_salvaged = 1;
	assert_int_equal(gfsb_ops_repair_lines(&st, 1, collect, &l), GFSB_OK);
	expect(&l, "the index would name 9 of 10 packs: 500 blobs (the index "
	    "named 520)",
	    "1 damaged index file of 3, 1 pack taken in, 2 missing, 1 "
	    "unreadable, 1 damaged blob left out",
	    "1 pack with damaged blobs: the intact ones would be copied into "
	    "new packs",
	    "dry run: nothing was changed", NULL);

	st.index_damaged = 2;
	st.packs_adopted = 0;
	st.blobs_damaged = 3;
	st.packs_salvaged = 0;
	st.index_files_written = 1;
	st.index_files_removed = 3;
	st.packs_written = 2;
	st.packs_deleted = 1;
	assert_int_equal(gfsb_ops_repair_lines(&st, 0, collect, &l), GFSB_OK);
	expect(&l, "index rebuilt from 9 of 10 packs: 500 blobs (the index "
	    "named 520)",
	    "2 damaged index files of 3, 0 packs taken in, 2 missing, 1 "
	    "unreadable, 3 damaged blobs left out",
	    "wrote 1 index file, removed 3; wrote 2 packs, deleted 1 damaged",
	    NULL);
	st.packs_salvaged = 2;
	st.index_files_written = 2;
	st.packs_written = 1;
	assert_int_equal(gfsb_ops_repair_lines(&st, 0, collect, &l), GFSB_OK);
	expect(&l, "index rebuilt from 9 of 10 packs: 500 blobs (the index "
	    "named 520)",
	    "2 damaged index files of 3, 0 packs taken in, 2 missing, 1 "
	    "unreadable, 3 damaged blobs left out",
	    "2 packs with damaged blobs: the intact ones were copied into new "
	    "packs",
	    "wrote 2 index files, removed 3; wrote 1 pack, deleted 1 damaged",
	    NULL);
}

/* ---- snapshots and forget ---- */

static char *p_srv[] = { "/srv", "/etc" };
static char *t_two[] = { "daily", "important-tag" };
static char *p_home[] = { "/home" };

/* Two snapshots: one with two paths and two tags, one with one path. */
static void
snaps(struct gfsb_snapshot *s, struct gfsb_snapshot **v)
{
	memset(s, 0, 2 * sizeof(*s));
	snprintf(s[0].id, sizeof(s[0].id), "%s", "1a2b3c4d5e6f");
	s[0].time.sec = T0;
	s[0].hostname = "web1";
	s[0].paths = p_srv;
	s[0].npaths = 2;
	s[0].tags = t_two;
	s[0].ntags = 2;
	snprintf(s[1].id, sizeof(s[1].id), "%s", "99887766aabb");
	s[1].time.sec = T0 + 86400;
	s[1].hostname = "database-server";
	s[1].paths = p_home;
	s[1].npaths = 1;
	v[0] = &s[0];
	v[1] = &s[1];
}

static void
test_snapshots_table(void **state)
{
	struct gfsb_snapshot s[2], *v[2];
	struct lines l = { .n = 0 };
	char rule[128];

	(void)state;
	snaps(s, v);
	/* 8 + 2 + 19 + 2 + 15 (host) + 2 + 13 (tags) + 2 + 20 */
	memset(rule, '-', 83);
	rule[83] = '\0';
	assert_int_equal(gfsb_ops_snapshots_lines(v, 2, collect, &l), GFSB_OK);
	expect(&l,
	    "ID        Time                 Host             Tags           "
	    "Paths",
	    rule,
	    "1a2b3c4d  2024-05-01 10:00:00  web1             daily          "
	    "/srv",
	    "                                                important-tag  "
	    "/etc",
	    "99887766  2024-05-02 10:00:00  database-server                 "
	    "/home",
	    rule, "2 snapshots", NULL);
	memset(rule, '-', 74);
	rule[74] = '\0';
	assert_int_equal(gfsb_ops_snapshots_lines(v + 1, 1, collect, &l),
	    GFSB_OK);
	expect(&l,
	    "ID        Time                 Host             Tags  Paths",
	    rule,
	    "99887766  2024-05-02 10:00:00  database-server        /home",
	    rule, "1 snapshot", NULL);
	assert_int_equal(gfsb_ops_snapshots_lines(NULL, 0, collect, &l),
	    GFSB_OK);
	memset(rule, '-', 63);
	rule[63] = '\0';
	expect(&l, "ID        Time                 Host  Tags  Paths", rule,
	    rule, "0 snapshots", NULL);
}

static void
test_snapshots_match(void **state)
{
	struct gfsb_snapshot s[2], *v[2];

	(void)state;
	snaps(s, v);
	assert_true(gfsb_ops_snapshots_match(&s[0], NULL, NULL, NULL));
	assert_true(gfsb_ops_snapshots_match(&s[0], "web1", "important-tag",
	    "/etc"));
	assert_false(gfsb_ops_snapshots_match(&s[0], "web", NULL, NULL));
	assert_false(gfsb_ops_snapshots_match(&s[0], NULL, "weekly", NULL));
	assert_false(gfsb_ops_snapshots_match(&s[0], NULL, NULL, "/srv/www"));
	assert_false(gfsb_ops_snapshots_match(&s[1], NULL, "daily", NULL));
	assert_true(gfsb_ops_snapshots_match(&s[1], "database-server", NULL,
	    "/home"));
}

static void
test_forget(void **state)
{
	struct gfsb_snapshot s[2], *v[2];
	struct gfsb_gfs_decision dec[2];
	struct gfsb_forget_group g;
	struct gfsb_forget_result res;
	struct gfsb_policy *p;
	struct lines l = { .n = 0 };
	char head[128], row0[256], row1[256];

	(void)state;
	snaps(s, v);
	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(NULL, p, "keep-daily", "7",
	    "test"), GFSB_OK);
	memset(dec, 0, sizeof(dec));
	dec[0].keep = 1;
	dec[0].roles = GFSB_ROLE_DAILY | GFSB_ROLE_WEEKLY;
	snprintf(dec[0].reasons[0], sizeof(dec[0].reasons[0]), "daily "
	    "snapshot");
	snprintf(dec[0].reasons[1], sizeof(dec[0].reasons[1]), "weekly "
	    "snapshot");
	dec[0].nreasons = 2;
	memset(&g, 0, sizeof(g));
	g.host = "web1";
	g.paths = p_srv;
	g.npaths = 2;
	g.tags = t_two;
	g.ntags = 2;
	g.snaps = v;
	g.dec = dec;
	g.n = 2;
	g.nkeep = 1;
	memset(&res, 0, sizeof(res));
	res.groups = &g;
	res.ngroups = 1;
	res.kept = 1;
	res.removed = 1;
	snprintf(head, sizeof(head), "%-8s  %-19s  %-6s  %-52s  %s", "ID",
	    "Time", "Action", "Roles", "Reasons");
	snprintf(row0, sizeof(row0), "1a2b3c4d  2024-05-01 10:00:00  keep    "
	    "%-52s  daily snapshot, weekly snapshot",
	    "son/daily, father/weekly");
	snprintf(row1, sizeof(row1), "99887766  2024-05-02 10:00:00  remove  "
	    "%-52s  ", "");
	assert_int_equal(gfsb_ops_forget_lines(&res, p, 1, collect, &l),
	    GFSB_OK);
	expect(&l, "policy: keep-daily 7", "",
	    "snapshots of host web1, paths /srv /etc, tags "
	    "daily,important-tag:",
	    head, row0, row1, "keep 1, remove 1 of 2 snapshots", "",
	    "total: keep 1, remove 1 snapshots (dry run: nothing was removed)",
	    NULL);
	/* --json: restic's document, one result. */
	assert_int_equal(gfsb_ops_forget_told(&res, p, 1, 1, collect, &l),
	    GFSB_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.kind[0], GFSB_OPS_LINE_RESULT);
	assert_true(l.line[0][0] == '[');
	assert_non_null(strstr(l.line[0], "\"keep\""));
	free(l.line[0]);
	l.n = 0;
	assert_int_equal(gfsb_ops_forget_told(&res, p, 1, 0, collect, &l),
	    GFSB_OK);
	assert_string_equal(l.line[0], "policy: keep-daily 7");
	expect(&l, l.line[0], l.line[1], l.line[2], l.line[3], l.line[4],
	    l.line[5], l.line[6], l.line[7], l.line[8], NULL);

	/* Grouped by nothing: "snapshots:"; a lock holds one back. */
	g.host = NULL;
	g.paths = NULL;
	g.tags = NULL;
	res.waiting = 1;
	res.waiting_until = T0;
	assert_int_equal(gfsb_ops_forget_lines(&res, p, 0, collect, &l),
	    GFSB_OK);
	expect(&l, "policy: keep-daily 7", "", "snapshots:", head, row0, row1,
	    "keep 1, remove 1 of 2 snapshots", "",
	    "total: keep 1, remove 1 snapshots",
	    "1 snapshots wait on their Object Lock, until 2024-05-01 10:00:00 "
	    "at the latest; a later run deletes them", NULL);
	gfsb_gfs_policy_free(p);
}

static void
test_forget_ids(void **state)
{
	struct gfsb_snapshot s[2], *v[2];
	struct gfsb_forget_ids_result res;
	struct lines l = { .n = 0 };

	(void)state;
	snaps(s, v);
	s[1].npaths = 0;
	memset(&res, 0, sizeof(res));
	res.snaps = v;
	res.n = 2;
	res.waiting = 1;	/* told apart: gfsb_ops_prune_waiting_line */
	assert_int_equal(gfsb_ops_forget_ids_lines(&res, 0, collect, &l),
	    GFSB_OK);
	expect(&l, "removed snapshot 1a2b3c4d of web1, 2024-05-01 10:00:00, "
	    "/srv", "removed snapshot 99887766 of database-server, "
	    "2024-05-02 10:00:00", NULL);
	assert_int_equal(gfsb_ops_forget_ids_lines(&res, 1, collect, &l),
	    GFSB_OK);
	expect(&l, "would remove snapshot 1a2b3c4d of web1, 2024-05-01 "
	    "10:00:00, /srv", "would remove snapshot 99887766 of "
	    "database-server, 2024-05-02 10:00:00", NULL);
	/* What forget ID... says: the lines, then what waits, which -q
	 * does not silence. */
	assert_int_equal(gfsb_ops_forget_ids_told(&res, 0, 0, collect, &l),
	    GFSB_OK);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.line[2], "1 snapshots the storage would not "
	    "delete yet; a later run deletes them");
	expect(&l, l.line[0], l.line[1], l.line[2], NULL);
	assert_int_equal(gfsb_ops_forget_ids_told(&res, 0, 1, collect, &l),
	    GFSB_OK);
	expect(&l, "1 snapshots the storage would not delete yet; a later "
	    "run deletes them", NULL);
	res.waiting = 0;
	assert_int_equal(gfsb_ops_forget_ids_told(&res, 0, 1, collect, &l),
	    GFSB_OK);
	expect(&l, NULL);
}

/* ---- policy show ---- */

static void
test_policy_show(void **state)
{
	struct gfsb_policy *p;
	struct gfsb_time end = { T0, 0 };
	struct lines l = { .n = 0 };

	(void)state;
	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(NULL, p, "keep-daily", "3",
	    "test"), GFSB_OK);
	assert_int_equal(gfsb_gfs_policy_set(NULL, p, "keep-last", "2",
	    "test"), GFSB_OK);
	assert_int_equal(gfsb_ops_policy_show(p, "p.policy", 10, &end,
	    collect, &l), GFSB_OK);
	expect(&l, "policy p.policy: keep-last 2, keep-daily 3",
	    "simulated 10 daily backups up to 2024-05-01 10:00:00, "
	    "forgetting after each",
	    "held at the end: 3 snapshots (at most 3 at any time); the oldest "
	    "is 2 days old",
	    "  son/daily              3  ages (days): 0 1 2",
	    "  last                   2  ages (days): 0 1", NULL);

	/* 0 days: as many as the rules need (3 + 0 + 7); tags kept too. */
	assert_int_equal(gfsb_gfs_policy_set(NULL, p, "keep-tag", "x",
	    "test"), GFSB_OK);
	assert_int_equal(gfsb_ops_policy_show(p, "p.policy", 0, &end,
	    collect, &l), GFSB_OK);
	expect(&l, "policy p.policy: keep-last 2, keep-daily 3, keep-tag x",
	    "simulated 10 daily backups up to 2024-05-01 10:00:00, "
	    "forgetting after each",
	    "held at the end: 3 snapshots (at most 3 at any time); the oldest "
	    "is 2 days old",
	    "  son/daily              3  ages (days): 0 1 2",
	    "  last                   2  ages (days): 0 1",
	    "  (snapshots with the policy's tags are also kept, whatever their "
	    "age)", NULL);
	gfsb_gfs_policy_free(p);

	/* An empty policy simulates nothing and says nothing. */
	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	assert_int_equal(gfsb_ops_policy_show(p, "p.policy", 0, &end,
	    collect, &l), GFSB_EINVAL);
	expect(&l, NULL);
	gfsb_gfs_policy_free(p);
}

/* ---- backup, restore, verify ---- */

static void
test_backup_progress(void **state)
{
	struct gfsb_backup_progress p = { 10, 200 << 20, 0, 0, 0, 65 };
	char line[256];

	(void)state;
	gfsb_ops_backup_progress_line(&p, line, sizeof(line));
	assert_string_equal(line, "[1:05] 10 files, 200 MiB, 3 MB/s");
	p.totals_known = 1;
	p.files_total = 40;
	p.bytes_total = 400 << 20;
	gfsb_ops_backup_progress_line(&p, line, sizeof(line));
	assert_string_equal(line, "[1:05] 10 of 40 files, 200 MiB of 400 "
	    "MiB, 3 MB/s, ETA 1:05");
	p.bytes_done = p.bytes_total;
	gfsb_ops_backup_progress_line(&p, line, sizeof(line));
	assert_string_equal(line, "[1:05] 10 of 40 files, 400 MiB of 400 "
	    "MiB, 6 MB/s");
}

static void
test_backup_summary(void **state)
{
	struct gfsb_backup_result res;
	struct lines l = { { NULL }, { 0 }, 0 };
	char line[512];

	(void)state;
	memset(&res, 0, sizeof(res));
	snprintf(res.snapshot_id, sizeof(res.snapshot_id), "%s",
	    "0123456789abcdef");
	res.summary.total_files_processed = 12;
	res.summary.files_new = 3;
	res.summary.files_changed = 1;
	res.summary.files_unmodified = 8;
	res.summary.total_bytes_processed = 4 << 20;
	res.summary.data_added = 1 << 20;
	res.summary.data_added_packed = 512 << 10;
	res.seconds = 0.34;
	gfsb_ops_backup_summary(&res, line, sizeof(line));
	assert_string_equal(line, "snapshot 01234567 saved: 12 files (3 new, "
	    "1 changed, 8 unchanged), 4.00 MiB processed, 1.00 MiB new data "
	    "(512 KiB stored) in 0.3 s");
	/* What backup says: the line, none with -q; then the warnings. */
	assert_int_equal(gfsb_ops_backup_told(&res, 0, 0, collect, &l),
	    GFSB_EXIT_OK);
	expect(&l, line, NULL);
	assert_int_equal(gfsb_ops_backup_told(&res, 0, 1, collect, &l),
	    GFSB_EXIT_OK);
	expect(&l, NULL);
	res.summary.warnings = 2;
	assert_int_equal(gfsb_ops_backup_told(&res, 0, 1, collect, &l),
	    GFSB_EXIT_PARTIAL);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.kind[0], GFSB_OPS_LINE_WARNING);
	assert_string_equal(l.line[0], "gfsbackup: backup: 2 warning(s): some "
	    "files could not be read (see above)");
	free(l.line[0]);
	l.n = 0;
	/* --json: restic's record even with -q. */
	assert_int_equal(gfsb_ops_backup_told(&res, 1, 1, collect, &l),
	    GFSB_EXIT_PARTIAL);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.kind[0], GFSB_OPS_LINE_RESULT);
	assert_non_null(strstr(l.line[0], "\"message_type\":\"summary\""));
	free(l.line[0]);
	free(l.line[1]);
}

static void
test_restore_summary(void **state)
{
	struct gfsb_restore_result res;
	char line[256];

	(void)state;
	memset(&res, 0, sizeof(res));
	snprintf(res.snapshot_id, sizeof(res.snapshot_id), "%s",
	    "fedcba9876543210");
	res.files = 12;
	res.dirs = 3;
	res.others = 1;
	res.bytes = 100;
	res.seconds = 0.25;
	gfsb_ops_restore_summary(&res, line, sizeof(line));
	assert_string_equal(line, "restored snapshot fedcba98: 12 files, 3 "
	    "directories, 1 other entries, 100 B in 0.2 s");
	res.damaged_files = 1;
	gfsb_ops_restore_summary(&res, line, sizeof(line));
	assert_string_equal(line, "restored snapshot fedcba98: 12 files, 3 "
	    "directories, 1 other entries, 100 B in 0.2 s (with damage, see "
	    "above)");
}

static void
test_verify_progress(void **state)
{
	struct gfsb_verify_progress p = { "read", 12, 40, 3 << 20, 42.9 };
	char line[160];

	(void)state;
	gfsb_ops_verify_progress_line(&p, line, sizeof(line));
	assert_string_equal(line, "[0:42] reading packs: 12 of 40, 3.00 MiB");
	p.phase = "trees";
	gfsb_ops_verify_progress_line(&p, line, sizeof(line));
	assert_string_equal(line, "[0:42] checking trees: 12 of 40");
	p.phase = "index";
	p.total = 0;
	gfsb_ops_verify_progress_line(&p, line, sizeof(line));
	assert_string_equal(line, "[0:42] checking index");
}

/* A verification's warnings come first, as warnings, said once. */
static void
test_verify_warning(void **state)
{
	struct gfsb_verify_result res;
	struct lines l = { .n = 0 };
	char *w[] = { "index file 3f: cannot be read" };
	size_t i;

	(void)state;
	memset(&res, 0, sizeof(res));
	snprintf(res.mode, sizeof(res.mode), "%s", "none");
	res.warnings = w;
	res.nwarnings = 1;
	assert_int_equal(gfsb_ops_verify_lines(&res, collect, &l), GFSB_OK);
	assert_true(l.n > 2);
	assert_int_equal(l.kind[0], GFSB_OPS_LINE_WARNING);
	assert_string_equal(l.line[0], "warning: index file 3f: cannot be "
	    "read");
	assert_int_equal(l.kind[1], GFSB_OPS_LINE_RESULT);
	assert_string_equal(l.line[l.n - 1], "no damage found");
	for (i = 0; i < l.n; i++)
		free(l.line[i]);
}

/* ---- ls ---- */

static void
test_ls_entry(void **state)
{
	struct gfsb_node n;
	struct lines l = { .n = 0 };
	char *longpath;

	(void)state;
	memset(&n, 0, sizeof(n));
	n.kind = GFSB_NODE_FILE;
	n.mode = S_IFREG | 0644;
	n.user = "alice";
	n.group = "staff";
	n.size = 1234;
	n.mtime.sec = T0;
	assert_int_equal(gfsb_ops_ls_entry("/srv/a", &n, 0, collect, &l),
	    GFSB_OK);
	assert_int_equal(gfsb_ops_ls_entry("/srv/a", &n, 1, collect, &l),
	    GFSB_OK);
	n.kind = GFSB_NODE_DIR;
	n.mode = S_IFDIR | 01777;
	n.user = NULL;
	n.group = NULL;
	n.uid = 1001;
	n.gid = 50;
	n.size = 0;
	assert_int_equal(gfsb_ops_ls_entry("/tmp", &n, 1, collect, &l),
	    GFSB_OK);
	n.kind = GFSB_NODE_FILE;
	n.mode = S_IFREG | 06754;
	assert_int_equal(gfsb_ops_ls_entry("/bin/x", &n, 1, collect, &l),
	    GFSB_OK);
	n.mode = S_IFREG | 07000;
	assert_int_equal(gfsb_ops_ls_entry("/bin/y", &n, 1, collect, &l),
	    GFSB_OK);
	n.kind = GFSB_NODE_SYMLINK;
	n.mode = S_IFLNK | 0777;
	n.target = "../a";
	assert_int_equal(gfsb_ops_ls_entry("/srv/b", &n, 1, collect, &l),
	    GFSB_OK);
	expect(&l, "/srv/a",
	    "-rw-r--r-- alice    staff            1234 2024-05-01 10:00:00 "
	    "/srv/a",
	    "drwxrwxrwt 1001     50                  0 2024-05-01 10:00:00 "
	    "/tmp",
	    "-rwsr-sr-- 1001     50                  0 2024-05-01 10:00:00 "
	    "/bin/x",
	    "---S--S--T 1001     50                  0 2024-05-01 10:00:00 "
	    "/bin/y",
	    "lrwxrwxrwx 1001     50                  0 2024-05-01 10:00:00 "
	    "/srv/b -> ../a", NULL);

	/* A line has no length limit: a long path comes whole. */
	longpath = malloc(20001);
	assert_non_null(longpath);
	memset(longpath, 'p', 20000);
	longpath[0] = '/';
	longpath[20000] = '\0';
	n.kind = GFSB_NODE_FILE;
	n.mode = S_IFREG | 0600;
	assert_int_equal(gfsb_ops_ls_entry(longpath, &n, 1, collect, &l),
	    GFSB_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(strlen(l.line[0]), 62 + 20000);
	assert_string_equal(l.line[0] + 62, longpath);
	free(l.line[0]);
	free(longpath);
}

/* A progress line five times a second at most, and never the last one
 * dropped. */
static void
test_progress_due(void **state)
{
	double last = -1;

	(void)state;
	assert_true(gfsb_ops_progress_due(&last, 0.0, 0.2, 0));
	assert_true(last == 0.0);
	assert_false(gfsb_ops_progress_due(&last, 0.1, 0.2, 0));
	assert_true(last == 0.0);
	assert_true(gfsb_ops_progress_due(&last, 0.25, 0.2, 0));
	assert_true(last == 0.25);
	assert_false(gfsb_ops_progress_due(&last, 0.3, 0.2, 0));
	/* Finished: shown however soon. */
	assert_true(gfsb_ops_progress_due(&last, 0.31, 0.2, 1));
	assert_true(last == 0.31);
	/* Once a second (backup --json), from the start. */
	last = -1;
	assert_false(gfsb_ops_progress_due(&last, -0.5, 1.0, 0));
	assert_true(gfsb_ops_progress_due(&last, 0.0, 1.0, 0));
	assert_false(gfsb_ops_progress_due(&last, 0.99, 1.0, 0));
	assert_true(gfsb_ops_progress_due(&last, 1.0, 1.0, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_progress),
		cmocka_unit_test(test_sync_dry_run),
		cmocka_unit_test(test_sync_result),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_prune_waiting),
		cmocka_unit_test(test_repair),
		cmocka_unit_test(test_snapshots_table),
		cmocka_unit_test(test_snapshots_match),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_forget_ids),
		cmocka_unit_test(test_policy_show),
		cmocka_unit_test(test_backup_progress),
		cmocka_unit_test(test_backup_summary),
		cmocka_unit_test(test_restore_summary),
		cmocka_unit_test(test_verify_progress),
		cmocka_unit_test(test_verify_warning),
		cmocka_unit_test(test_ls_entry),
		cmocka_unit_test(test_progress_due),
	};

	return cmocka_run_group_tests(tests, utc, NULL);
}
