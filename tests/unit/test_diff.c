/*
 * diff between two snapshots of a generated tree on an in-memory
 * repository: every kind of change (added, removed, content, type,
 * metadata only, a symlink's target, a rename, whole directories added
 * and removed, a directory left alone) named exactly once in name order
 * with restic's modifiers, and the statistics: entries, and the data
 * blobs only one side uses (a renamed file adds none).  And stats over
 * the same snapshots: restore size, distinct blobs, deduplication; and
 * find: the snapshots holding a matching path, unchanged subtrees read
 * once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "diff pass"

struct fixture {
	char base[64], src[128];
	struct fx_repo x;
	char a[GFSB_ID_HEX], b[GFSB_ID_HEX];
	char seen[2048];	/* "M path\n" for each change under src */
};

/* A small file of unique content (one blob). */
static void
put(struct fixture *f, const char *name, unsigned seed)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", f->src, name);
	fx_write(p, 10000, seed);
}

static void
dir(struct fixture *f, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", f->src, name);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void
backup(struct fixture *f, char id[GFSB_ID_HEX])
{
	const char *paths[1] = { f->src };
	struct gfsb_backup_opts bo;
	struct gfsb_backup_result res;

	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.threads = 1;
	assert_int_equal(gfsb_ops_backup(f->x.r, &bo, &res), GFSB_OK);
	memcpy(id, res.snapshot_id, GFSB_ID_HEX);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[256], q[256];

	assert_non_null(f);
	fx_tmpdir(f->base, sizeof(f->base), "diff");
	snprintf(f->src, sizeof(f->src), "%s/src", f->base);
	assert_int_equal(mkdir(f->src, 0755), 0);
	put(f, "gone.txt", 2);
	put(f, "mod.txt", 3);
	put(f, "old-name", 4);
	put(f, "kind", 5);
	put(f, "meta.txt", 8);
	dir(f, "olddir");
	put(f, "olddir/c", 6);
	dir(f, "same");
	put(f, "same/s", 7);
	snprintf(p, sizeof(p), "%s/link", f->src);
	assert_int_equal(symlink("x", p), 0);
	fx_repo_new(&f->x, PASS, 1 << 20);
	backup(f, f->a);

	/* A day of changes. */
	put(f, "added.txt", 50);
	snprintf(p, sizeof(p), "%s/gone.txt", f->src);
	assert_int_equal(unlink(p), 0);
	put(f, "mod.txt", 53);
	snprintf(p, sizeof(p), "%s/old-name", f->src);
	snprintf(q, sizeof(q), "%s/new-name", f->src);
	assert_int_equal(rename(p, q), 0);
	snprintf(p, sizeof(p), "%s/meta.txt", f->src);
	assert_int_equal(chmod(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/kind", f->src);
	assert_int_equal(unlink(p), 0);
	dir(f, "kind");
	put(f, "kind/inside", 55);
	dir(f, "newdir");
	put(f, "newdir/a", 56);
	put(f, "newdir/b", 57);
	snprintf(p, sizeof(p), "%s/olddir/c", f->src);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/olddir", f->src);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/link", f->src);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("y", p), 0);
	backup(f, f->b);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fx_repo_free(&f->x);
	fx_rm_rf(f->base);
	free(f);
	return 0;
}

/* Changes under src, relative to it ("M mod.txt\n"); the directories
 * above it change with every backup and are left out. */
static gfsb_err
seen(void *cookie, char mod, const char *path, const struct gfsb_node *a,
    const struct gfsb_node *b)
{
	struct fixture *f = cookie;
	size_t n = strlen(f->seen), sl = strlen(f->src);

	assert_true(mod == '+' ? a == NULL && b != NULL : mod == '-' ?
	    a != NULL && b == NULL : a != NULL && b != NULL);
	if (strncmp(path, f->src, sl) == 0 && path[sl] == '/')
		snprintf(f->seen + n, sizeof(f->seen) - n, "%c %s\n", mod,
		    path + sl + 1);
	return GFSB_OK;
}

static void
test_changes(void **state)
{
	struct fixture *f = *state;
	struct gfsb_diff_result res;

	assert_int_equal(gfsb_ops_diff(f->x.r, f->a, f->b, seen, f, &res),
	    GFSB_OK);
	assert_string_equal(f->seen,
	    "+ added.txt\n"
	    "- gone.txt\n"
	    "T kind\n"
	    "+ kind/inside\n"
	    "M link\n"
	    "U meta.txt\n"
	    "M mod.txt\n"
	    "+ new-name\n"
	    "+ newdir\n"
	    "+ newdir/a\n"
	    "+ newdir/b\n"
	    "- old-name\n"
	    "- olddir\n"
	    "- olddir/c\n");
	assert_string_equal(res.from, f->a);
	assert_string_equal(res.to, f->b);
	assert_int_equal(res.added.files, 5);
	assert_int_equal(res.added.dirs, 1);
	assert_int_equal(res.removed.files, 3);
	assert_int_equal(res.removed.dirs, 1);
	assert_int_equal(res.added.others + res.removed.others, 0);
	assert_int_equal(res.changed_files, 3);
	/* added, mod's new content, inside, a, b; the rename adds none */
	assert_int_equal(res.added.data_blobs, 5);
	/* gone, mod's old content, kind's, c */
	assert_int_equal(res.removed.data_blobs, 4);
	assert_true(res.added.bytes > 5 * 10000 / 2);
	assert_true(res.added.tree_blobs >= 3);
	assert_true(res.removed.tree_blobs >= 2);
}

static void
test_reverse_and_same(void **state)
{
	struct fixture *f = *state;
	struct gfsb_diff_result res, back;

	assert_int_equal(gfsb_ops_diff(f->x.r, f->a, f->b, seen, f, &res),
	    GFSB_OK);
	f->seen[0] = '\0';
	assert_int_equal(gfsb_ops_diff(f->x.r, f->b, f->a, seen, f, &back),
	    GFSB_OK);
	assert_non_null(strstr(f->seen, "- added.txt\n+ gone.txt\nT kind\n"
	    "- kind/inside\n"));
	assert_int_equal(back.added.data_blobs, res.removed.data_blobs);
	assert_int_equal(back.removed.data_blobs, res.added.data_blobs);
	assert_int_equal(back.added.bytes, res.removed.bytes);
	/* A snapshot and itself: nothing at all. */
	f->seen[0] = '\0';
	assert_int_equal(gfsb_ops_diff(f->x.r, f->b, "latest", seen, f,
	    &res), GFSB_OK);
	assert_string_equal(f->seen, "");
	assert_int_equal(res.added.data_blobs + res.removed.data_blobs +
	    res.added.tree_blobs + res.removed.tree_blobs, 0);
	assert_int_equal(gfsb_ops_diff(f->x.r, f->a, "0123abcd", seen, f,
	    &res), GFSB_ENOTFOUND);
}

static void
test_stats(void **state)
{
	struct fixture *f = *state;
	const char *one[1] = { NULL };
	struct gfsb_stats st;

	one[0] = f->a;
	assert_int_equal(gfsb_ops_stats(f->x.r, one, 1, &st), GFSB_OK);
	assert_int_equal(st.snapshots, 1);
	/* 7 files; olddir, same and the three directories above src */
	assert_int_equal(st.files, 7);
	assert_int_equal(st.dirs, 5);
	assert_int_equal(st.others, 1);
	assert_int_equal(st.restore_bytes, 7 * 10000);
	assert_int_equal(st.data_blobs, 7);
	assert_int_equal(st.data_raw, 7 * 10000);
	/* Random bytes do not compress: stored is raw plus the seal. */
	assert_true(st.data_stored >= st.data_raw);
	assert_true(st.packs >= 1 && st.packs <= st.repo_packs);

	/* Both: files counted per snapshot, blobs once. */
	assert_int_equal(gfsb_ops_stats(f->x.r, NULL, 0, &st), GFSB_OK);
	assert_int_equal(st.snapshots, 2);
	assert_int_equal(st.files, 7 + 8);
	assert_int_equal(st.restore_bytes, 15 * 10000);
	assert_int_equal(st.data_blobs, 12);
	assert_int_equal(st.data_raw, 12 * 10000);
	assert_true(st.repo_blobs >= st.data_blobs + st.tree_blobs);
	one[0] = "0123abcd";
	assert_int_equal(gfsb_ops_stats(f->x.r, one, 1, &st), GFSB_ENOTFOUND);
}

/* "ID8 path\n" for each match under src. */
static gfsb_err
found(void *cookie, const struct gfsb_snapshot *snap, const char *path,
    const struct gfsb_node *n)
{
	struct fixture *f = cookie;
	size_t len = strlen(f->seen), sl = strlen(f->src);

	assert_non_null(n);
	assert_true(strncmp(path, f->src, sl) == 0);
	snprintf(f->seen + len, sizeof(f->seen) - len, "%.8s %s\n", snap->id,
	    path + sl + 1);
	return GFSB_OK;
}

static void
test_find(void **state)
{
	struct fixture *f = *state;
	const char *pats[2] = { "*.txt", "c" };
	struct gfsb_find_opts o;
	struct gfsb_find_result res;
	char want[512], a[9], b[9];

	snprintf(a, sizeof(a), "%.8s", f->a);
	snprintf(b, sizeof(b), "%.8s", f->b);
	memset(&o, 0, sizeof(o));
	o.patterns = pats;
	o.npatterns = 2;
	assert_int_equal(gfsb_ops_find(f->x.r, &o, found, f, &res), GFSB_OK);
	snprintf(want, sizeof(want), "%s gone.txt\n%s meta.txt\n"
	    "%s mod.txt\n%s olddir/c\n%s added.txt\n%s meta.txt\n"
	    "%s mod.txt\n", a, a, a, a, b, b, b);
	assert_string_equal(f->seen, want);
	assert_int_equal(res.snapshots, 2);
	assert_int_equal(res.snapshots_matched, 2);
	assert_int_equal(res.matches, 7);
	/* same/ held nothing in the first: not read in the second. */
	assert_true(res.trees_skipped >= 1);

	/* A path pattern; one snapshot; no match. */
	f->seen[0] = '\0';
	snprintf(want, sizeof(want), "%s/newdir/*", f->src);
	pats[0] = want;
	o.npatterns = 1;
	o.snapshots = (const char *const *)&pats[1];
	pats[1] = "latest";
	o.nsnapshots = 1;
	assert_int_equal(gfsb_ops_find(f->x.r, &o, found, f, &res), GFSB_OK);
	snprintf(want, sizeof(want), "%s newdir/a\n%s newdir/b\n", b, b);
	assert_string_equal(f->seen, want);
	pats[0] = "no-such-name";
	assert_int_equal(gfsb_ops_find(f->x.r, &o, found, f, &res), GFSB_OK);
	assert_int_equal(res.matches, 0);
	assert_int_equal(res.snapshots_matched, 0);
	o.npatterns = 0;
	assert_int_equal(gfsb_ops_find(f->x.r, &o, found, f, &res),
	    GFSB_EINVAL);
}

/* Lines of gfsbackup find, gathered: "R:line\n" for a result, "W:" a
 * warning. */
static void
gather(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	char *buf = cookie;
	size_t len = strlen(buf);

	snprintf(buf + len, 4096 - len, "%c:%s\n",
	    kind == GFSB_OPS_LINE_RESULT ? 'R' : 'W', line);
}

/* find's lines: a heading before each snapshot's matches, then the sum. */
static void
test_find_lines(void **state)
{
	struct fixture *f = *state;
	const char *pats[1] = { "mod.txt" };
	struct gfsb_find_opts o;
	struct gfsb_find_result res;
	char got[4096] = "", *p, *q;

	memset(&o, 0, sizeof(o));
	o.patterns = pats;
	o.npatterns = 1;
	assert_int_equal(gfsb_ops_find_lines(f->x.r, &o, gather, got, &res),
	    GFSB_OK);
	/* heading, entry; heading, entry; the sum: all results. */
	assert_non_null(p = strstr(got, "R:snapshot "));
	assert_memory_equal(p + 11, f->a, 8);
	assert_non_null(q = strstr(p + 1, "R:snapshot "));
	assert_memory_equal(q + 11, f->b, 8);
	assert_non_null(strstr(p, "/mod.txt\nR:snapshot "));
	assert_non_null(strstr(got, "\nR:2 matches in 2 of 2 snapshots\n"));
	assert_int_equal(res.matches, 2);
	/* No pattern: refused, nothing told. */
	got[0] = '\0';
	o.npatterns = 0;
	assert_int_equal(gfsb_ops_find_lines(f->x.r, &o, gather, got, &res),
	    GFSB_EINVAL);
	assert_string_equal(got, "");
}

/* The JSON documents, in restic's shapes. */
static void
test_json(void **state)
{
	struct fixture *f = *state;
	const char *pats[1] = { "*.txt" };
	struct gfsb_find_opts o;
	struct gfsb_find_result fr;
	struct gfsb_diff_result dr;
	struct gfsb_stats st;
	struct gfsb_snapshot *snap;
	struct gfsb_node node;
	char *s, *line, *last = NULL, *save = NULL;
	json_t *j, *m;
	size_t changes = 0;

	assert_int_equal(gfsb_ops_diff_json(f->x.r, f->a, f->b, &s, &dr),
	    GFSB_OK);
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(j = json_loads(line, 0, NULL));
		if (strcmp(json_string_value(json_object_get(j,
		    "message_type")), "change") == 0)
			changes++;
		json_decref(j);
		last = line;
	}
	/* 14 under src, and the directories above it (their mtimes) */
	assert_true(changes >= 14);
	assert_non_null(j = json_loads(last, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(j,
	    "message_type")), "statistics");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "added"), "data_blobs")), 5);
	assert_string_equal(json_string_value(json_object_get(j,
	    "target_snapshot")), f->b);
	json_decref(j);
	free(s);

	memset(&o, 0, sizeof(o));
	o.patterns = pats;
	o.npatterns = 1;
	assert_int_equal(gfsb_ops_find_json(f->x.r, &o, &s, &fr), GFSB_OK);
	assert_non_null(j = json_loads(s, 0, NULL));
	assert_int_equal(json_array_size(j), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j,
	    0), "hits")), 3);
	m = json_array_get(json_object_get(json_array_get(j, 1), "matches"),
	    0);
	assert_string_equal(json_string_value(json_object_get(m, "name")),
	    "added.txt");
	assert_string_equal(json_string_value(json_object_get(m, "type")),
	    "file");
	assert_int_equal(json_integer_value(json_object_get(m, "size")),
	    10000);
	json_decref(j);
	free(s);

	/* One entry, and a snapshot, as ls --json's lines. */
	memset(&node, 0, sizeof(node));
	node.kind = GFSB_NODE_SYMLINK;
	node.name = "link";
	node.mode = 0777;
	node.target = "y";
	assert_non_null(s = gfsb_ops_node_json("/a/link", &node));
	assert_null(strchr(s, '\n'));
	assert_non_null(j = json_loads(s, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(j, "type")),
	    "symlink");
	assert_string_equal(json_string_value(json_object_get(j,
	    "permissions")), "lrwxrwxrwx");
	assert_string_equal(json_string_value(json_object_get(j,
	    "linktarget")), "y");
	assert_string_equal(json_string_value(json_object_get(j,
	    "struct_type")), "node");
	json_decref(j);
	free(s);
	assert_int_equal(gfsb_repo_snapshot_find(f->x.r, f->a, NULL, &snap),
	    GFSB_OK);
	assert_non_null(s = gfsb_ops_snapshot_json_line(snap));
	gfsb_repo_snapshot_free(snap);
	assert_non_null(j = json_loads(s, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(j, "id")), f->a);
	assert_string_equal(json_string_value(json_object_get(j,
	    "struct_type")), "snapshot");
	json_decref(j);
	free(s);

	assert_int_equal(gfsb_ops_stats(f->x.r, NULL, 0, &st), GFSB_OK);
	assert_non_null(s = gfsb_ops_stats_json(&st));
	assert_non_null(j = json_loads(s, 0, NULL));
	assert_int_equal(json_integer_value(json_object_get(j,
	    "total_file_count")), 15);
	assert_true(json_real_value(json_object_get(j, "dedup_ratio")) >
	    1.24 && json_real_value(json_object_get(j, "dedup_ratio")) <
	    1.26);
	json_decref(j);
	free(s);
}

/* The lines diff and stats print. */
static void
collect_line(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	struct fixture *f = cookie;
	size_t n = strlen(f->seen);

	assert_int_equal(kind, GFSB_OPS_LINE_RESULT);
	snprintf(f->seen + n, sizeof(f->seen) - n, "%s\n", line);
}

static void
test_lines(void **state)
{
	struct fixture *f = *state;
	struct gfsb_diff_result res;
	struct gfsb_node dir, file;
	struct gfsb_stats st;
	char line[256];

	memset(&dir, 0, sizeof(dir));
	memset(&file, 0, sizeof(file));
	dir.kind = GFSB_NODE_DIR;
	file.kind = GFSB_NODE_FILE;
	gfsb_ops_diff_change_line('+', "/a/b", NULL, &dir, line, sizeof(line));
	assert_string_equal(line, "+    /a/b/");
	gfsb_ops_diff_change_line('-', "/a/c", &file, NULL, line, sizeof(line));
	assert_string_equal(line, "-    /a/c");
	assert_int_equal(gfsb_ops_diff(f->x.r, f->a, f->b, seen, f, &res),
	    GFSB_OK);
	f->seen[0] = '\0';
	assert_int_equal(gfsb_ops_diff_lines(&res, collect_line, f), GFSB_OK);
	assert_non_null(strstr(f->seen, "\nFiles:           5 new,     3 "
	    "removed,     3 changed\nDirs:            1 new,     1 removed\n"
	    "Others:          0 new,     0 removed\nData Blobs:      5 new, "
	    "    4 removed\n"));
	assert_int_equal(gfsb_ops_stats(f->x.r, NULL, 0, &st), GFSB_OK);
	f->seen[0] = '\0';
	assert_int_equal(gfsb_ops_stats_lines(&st, collect_line, f), GFSB_OK);
	assert_non_null(strstr(f->seen, "Snapshots:          2\n"));
	assert_non_null(strstr(f->seen, "in 15 files, "));
	assert_non_null(strstr(f->seen, "in 12 blobs (1.25x deduplication)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reverse_and_same, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
