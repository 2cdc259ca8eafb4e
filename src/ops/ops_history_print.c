/*
 * What find, diff and stats tell: their lines, and their JSON in
 * restic's shapes where restic has them: one
 * object per entry with its path, kind, permissions and times, and the
 * documents each command prints.  Where our facts differ from restic's,
 * the field says ours: "mode" is st_mode's permission bits (not Go's
 * FileMode), and there is no "atime" (not stored).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"
#include "ops_line.h"

static const char *
kind_name(enum gfsb_node_kind k)
{
	switch (k) {
	case GFSB_NODE_FILE: return "file";
	case GFSB_NODE_DIR: return "dir";
	case GFSB_NODE_SYMLINK: return "symlink";
	case GFSB_NODE_FIFO: return "fifo";
	case GFSB_NODE_CHARDEV: return "chardev";
	case GFSB_NODE_BLOCKDEV: return "blockdev";
	case GFSB_NODE_SOCKET: return "socket";
	}
	return "unknown";
}

/* "-rw-r--r--", as ls -l shows it. */
static void
mode_string(const struct gfsb_node *n, char s[11])
{
	static const char kinds[] = "?-dlpcbs";
	uint32_t m = n->mode;

	s[0] = kinds[n->kind < 8 ? n->kind : 0];
	s[1] = m & S_IRUSR ? 'r' : '-';
	s[2] = m & S_IWUSR ? 'w' : '-';
	s[3] = m & S_ISUID ? (m & S_IXUSR ? 's' : 'S') :
	    (m & S_IXUSR ? 'x' : '-');
	s[4] = m & S_IRGRP ? 'r' : '-';
	s[5] = m & S_IWGRP ? 'w' : '-';
	s[6] = m & S_ISGID ? (m & S_IXGRP ? 's' : 'S') :
	    (m & S_IXGRP ? 'x' : '-');
	s[7] = m & S_IROTH ? 'r' : '-';
	s[8] = m & S_IWOTH ? 'w' : '-';
	s[9] = m & S_ISVTX ? (m & S_IXOTH ? 't' : 'T') :
	    (m & S_IXOTH ? 'x' : '-');
	s[10] = '\0';
}

/*
 * A name as a JSON string.  File names are bytes, JSON text is UTF-8:
 * a byte that does not begin a valid UTF-8 sequence becomes U+FFFD, as
 * restic's (Go's) encoder does, rather than the entry failing (it did:
 * "out of memory" for a name in Latin-1).  NULL: no memory.
 */
json_t *
ops_json_name(const char *s)
{
	static const char fffd[] = "\xef\xbf\xbd";
	struct gfsb_buf b;
	json_t *j, *seq;
	size_t i = 0, n, len;
	unsigned char c;

	if ((j = json_string(s)) != NULL)
		return j;
	gfsb_buf_init(&b);
	for (len = strlen(s); i < len; i += n) {
		c = (unsigned char)s[i];
		n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ?
		    3 : (c & 0xf8) == 0xf0 ? 4 : 0;
		/* jansson judges a sequence as it judges whole strings. */
		if (n > 0 && i + n <= len &&
		    (seq = json_stringn(s + i, n)) != NULL) {
			json_decref(seq);
		} else {
			if (gfsb_buf_append(&b, fffd, 3) != GFSB_OK)
				goto out;
			n = 1;
			continue;
		}
		if (gfsb_buf_append(&b, s + i, n) != GFSB_OK)
			goto out;
	}
	j = json_stringn((const char *)b.data, b.len);
out:
	gfsb_buf_fini(&b);
	return j;
}

json_t *
ops_node_json(const char *path, const struct gfsb_node *n)
{
	char perm[11], mt[40], ct[40];
	json_t *o;

	mode_string(n, perm);
	gfsb_time_format_rfc3339(&n->mtime, mt, sizeof(mt));
	gfsb_time_format_rfc3339(&n->ctime, ct, sizeof(ct));
	o = json_pack("{s:o, s:o, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:I, "
	    "s:I, s:I}", "path", ops_json_name(path), "name",
	    ops_json_name(n->name), "type",
	    kind_name(n->kind), "mode", (json_int_t)(n->mode & 07777),
	    "permissions", perm, "mtime", mt, "ctime", ct,
	    "uid", (json_int_t)n->uid, "gid", (json_int_t)n->gid,
	    "size", (json_int_t)n->size, "links", (json_int_t)n->nlink,
	    "inode", (json_int_t)n->inode);
	if (o == NULL)
		return NULL;
	if ((n->user != NULL && json_object_set_new(o, "user",
	    ops_json_name(n->user)) != 0) ||
	    (n->group != NULL && json_object_set_new(o, "group",
	    ops_json_name(n->group)) != 0) ||
	    (n->target != NULL && json_object_set_new(o, "linktarget",
	    ops_json_name(n->target)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *
gfsb_ops_node_json(const char *path, const struct gfsb_node *n)
{
	json_t *o = ops_node_json(path, n);
	char *s = NULL;

	if (o != NULL && json_object_set_new(o, "struct_type",
	    json_string("node")) == 0)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *
gfsb_ops_snapshot_json_line(const struct gfsb_snapshot *snap)
{
	char *one = gfsb_repo_snapshot_json_one(snap, 1), *s = NULL;
	json_t *o = one != NULL ? json_loads(one, 0, NULL) : NULL;

	if (o != NULL && json_object_set_new(o, "struct_type",
	    json_string("snapshot")) == 0)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(one);
	return s;
}

/* ---- find ---- */

struct find_json {
	json_t *all;	/* [{hits, snapshot, matches}] */
	json_t *cur;	/* the current snapshot's object */
	const struct gfsb_snapshot *snap;
	int oom;
};

static gfsb_err
find_one(void *cookie, const struct gfsb_snapshot *s, const char *path,
    const struct gfsb_node *n)
{
	struct find_json *j = cookie;
	json_t *m;

	if (j->snap != s) {
		j->snap = s;
		j->cur = json_pack("{s:i, s:s, s:[]}", "hits", 0, "snapshot",
		    s->id, "matches");
		if (j->cur == NULL || json_array_append_new(j->all, j->cur))
			return GFSB_ENOMEM;
	}
	if ((m = ops_node_json(path, n)) == NULL ||
	    json_array_append_new(json_object_get(j->cur, "matches"), m) ||
	    json_object_set_new(j->cur, "hits", json_integer((json_int_t)
	    json_array_size(json_object_get(j->cur, "matches")))))
		return GFSB_ENOMEM;
	return GFSB_OK;
}

gfsb_err
gfsb_ops_find_json(struct gfsb_repo *r, const struct gfsb_find_opts *o,
    char **out, struct gfsb_find_result *res)
{
	struct find_json j;
	gfsb_err e;

	*out = NULL;
	memset(&j, 0, sizeof(j));
	if ((j.all = json_array()) == NULL)
		return GFSB_ENOMEM;
	if ((e = gfsb_ops_find(r, o, find_one, &j, res)) == GFSB_OK &&
	    (*out = json_dumps(j.all, JSON_INDENT(2))) == NULL)
		e = GFSB_ENOMEM;
	json_decref(j.all);
	return e;
}

/* find's lines: a heading before each snapshot's first match. */
struct find_lines {
	struct ops_lines *o;
	const struct gfsb_snapshot *last;	/* whose heading is out */
};

static gfsb_err
find_line(void *cookie, const struct gfsb_snapshot *s, const char *path,
    const struct gfsb_node *n)
{
	struct find_lines *f = cookie;
	char when[32];

	if (s != f->last) {
		f->last = s;
		gfsb_time_format_local(&s->time, when, sizeof(when));
		ops_line_put(f->o, "snapshot %.8s of %s, %s:", s->id,
		    s->hostname, when);
	}
	if (f->o->fn == NULL)
		return GFSB_OK;
	return gfsb_ops_ls_entry(path, n, 1, f->o->fn, f->o->cookie);
}

gfsb_err
gfsb_ops_find_lines(struct gfsb_repo *r, const struct gfsb_find_opts *o,
    gfsb_ops_line_fn *fn, void *cookie, struct gfsb_find_result *res)
{
	struct ops_lines l;
	struct find_lines f = { &l, NULL };
	gfsb_err e, e2;

	ops_line_init(&l, fn, cookie);
	if ((e = gfsb_ops_find(r, o, find_line, &f, res)) == GFSB_OK)
		ops_line_put(&l, "%llu matches in %llu of %llu snapshots",
		    (unsigned long long)res->matches,
		    (unsigned long long)res->snapshots_matched,
		    (unsigned long long)res->snapshots);
	e2 = ops_line_fini(&l);
	return e != GFSB_OK ? e : e2;
}

/* ---- diff ---- */

static gfsb_err
diff_one(void *cookie, char mod, const char *path, const struct gfsb_node *a,
    const struct gfsb_node *b)
{
	struct gfsb_buf *out = cookie;
	const struct gfsb_node *n = b != NULL ? b : a;
	char m[2] = { mod, '\0' }, *s;
	json_t *o;
	gfsb_err e = GFSB_ENOMEM;

	if ((s = malloc(strlen(path) + 2)) == NULL)
		return e;
	/* A directory's path ends in a slash. */
	sprintf(s, "%s%s", path, n->kind == GFSB_NODE_DIR ? "/" : "");
	o = json_pack("{s:s, s:o, s:s}", "message_type", "change", "path",
	    ops_json_name(s), "modifier", m);
	free(s);
	s = NULL;
	if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL &&
	    gfsb_buf_append(out, s, strlen(s)) == GFSB_OK &&
	    gfsb_buf_append(out, "\n", 1) == GFSB_OK)
		e = GFSB_OK;
	free(s);
	json_decref(o);
	return e;
}

static json_t *
side_json(const struct gfsb_diff_side *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
	    "files", (json_int_t)s->files, "dirs", (json_int_t)s->dirs,
	    "others", (json_int_t)s->others,
	    "data_blobs", (json_int_t)s->data_blobs,
	    "tree_blobs", (json_int_t)s->tree_blobs,
	    "bytes", (json_int_t)s->bytes);
}

gfsb_err
gfsb_ops_diff_json(struct gfsb_repo *r, const char *from, const char *to,
    char **out, struct gfsb_diff_result *res)
{
	struct gfsb_buf b;
	json_t *st;
	char *s = NULL;
	gfsb_err e;

	*out = NULL;
	gfsb_buf_init(&b);
	if ((e = gfsb_ops_diff(r, from, to, diff_one, &b, res)) != GFSB_OK)
		goto out;
	e = GFSB_ENOMEM;
	st = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "message_type",
	    "statistics", "source_snapshot", res->from, "target_snapshot",
	    res->to, "changed_files", (json_int_t)res->changed_files,
	    "added", side_json(&res->added), "removed",
	    side_json(&res->removed));
	if (st != NULL && (s = json_dumps(st, JSON_COMPACT)) != NULL &&
	    gfsb_buf_append(&b, s, strlen(s)) == GFSB_OK &&
	    gfsb_buf_append(&b, "", 1) == GFSB_OK) {
		*out = (char *)b.data;
		gfsb_buf_init(&b);
		e = GFSB_OK;
	}
	free(s);
	json_decref(st);
out:
	gfsb_buf_fini(&b);
	return e;
}

/* ---- stats ---- */

char *
gfsb_ops_stats_json(const struct gfsb_stats *st)
{
	json_t *o;
	char *s;

	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:f, s:f, s:I, s:I, s:I, s:I}",
	    "snapshots_count", (json_int_t)st->snapshots,
	    "total_size", (json_int_t)st->restore_bytes,
	    "total_file_count", (json_int_t)st->files,
	    "total_dir_count", (json_int_t)st->dirs,
	    "total_other_count", (json_int_t)st->others,
	    "total_blob_count", (json_int_t)(st->data_blobs +
	    st->tree_blobs),
	    "data_blobs", (json_int_t)st->data_blobs,
	    "tree_blobs", (json_int_t)st->tree_blobs,
	    "total_uncompressed_size", (json_int_t)st->data_raw,
	    "total_stored_size", (json_int_t)(st->data_stored +
	    st->tree_stored),
	    "packs", (json_int_t)st->packs,
	    "dedup_ratio", st->data_raw > 0 ? (double)st->restore_bytes /
	    (double)st->data_raw : 0.0,
	    "compression_ratio", st->data_stored > 0 ? (double)st->data_raw /
	    (double)st->data_stored : 0.0,
	    "repository_packs", (json_int_t)st->repo_packs,
	    "repository_pack_bytes", (json_int_t)st->repo_pack_bytes,
	    "index_blobs", (json_int_t)st->index_blobs,
	    "index_memory_bytes", (json_int_t)st->index_bytes);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return s;
}

/* ---- their lines ---- */

void
gfsb_ops_diff_change_line(char mod, const char *path,
    const struct gfsb_node *a, const struct gfsb_node *b, char *buf,
    size_t len)
{
	const struct gfsb_node *n = b != NULL ? b : a;

	snprintf(buf, len, "%c    %s%s", mod, path, n != NULL &&
	    n->kind == GFSB_NODE_DIR ? "/" : "");
}

gfsb_err
gfsb_ops_diff_lines(const struct gfsb_diff_result *res, gfsb_ops_line_fn *fn,
    void *cookie)
{
	const struct gfsb_diff_side *a = &res->added, *r = &res->removed;
	struct ops_lines o;
	char x[32], y[32];

	ops_line_init(&o, fn, cookie);
	ops_line_put(&o, "%s", "");
	ops_line_put(&o, "Files:       %5llu new, %5llu removed, %5llu changed",
	    (unsigned long long)a->files, (unsigned long long)r->files,
	    (unsigned long long)res->changed_files);
	ops_line_put(&o, "Dirs:        %5llu new, %5llu removed",
	    (unsigned long long)a->dirs, (unsigned long long)r->dirs);
	ops_line_put(&o, "Others:      %5llu new, %5llu removed",
	    (unsigned long long)a->others, (unsigned long long)r->others);
	ops_line_put(&o, "Data Blobs:  %5llu new, %5llu removed",
	    (unsigned long long)a->data_blobs,
	    (unsigned long long)r->data_blobs);
	ops_line_put(&o, "Tree Blobs:  %5llu new, %5llu removed",
	    (unsigned long long)a->tree_blobs,
	    (unsigned long long)r->tree_blobs);
	ops_line_put(&o, "  Added:   %s", gfsb_size_format(a->bytes, x,
	    sizeof(x)));
	ops_line_put(&o, "  Removed: %s", gfsb_size_format(r->bytes, y,
	    sizeof(y)));
	return ops_line_fini(&o);
}

gfsb_err
gfsb_ops_stats_lines(const struct gfsb_stats *st, gfsb_ops_line_fn *fn,
    void *cookie)
{
	struct ops_lines o;
	char a[32], b[32], c[32];

	ops_line_init(&o, fn, cookie);
	ops_line_put(&o, "Snapshots:          %llu",
	    (unsigned long long)st->snapshots);
	ops_line_put(&o, "Restore size:       %s in %llu files, %llu "
	    "directories, %llu others", gfsb_size_format(st->restore_bytes, a,
	    sizeof(a)), (unsigned long long)st->files,
	    (unsigned long long)st->dirs, (unsigned long long)st->others);
	ops_line_put(&o, "Data:               %s in %llu blobs (%.2fx "
	    "deduplication)", gfsb_size_format(st->data_raw, b, sizeof(b)),
	    (unsigned long long)st->data_blobs, st->data_raw > 0 ?
	    (double)st->restore_bytes / (double)st->data_raw : 0.0);
	ops_line_put(&o, "Stored:             %s (%.2fx compression), %llu "
	    "tree blobs, in %llu packs", gfsb_size_format(st->data_stored +
	    st->tree_stored, c, sizeof(c)), st->data_stored > 0 ?
	    (double)st->data_raw / (double)st->data_stored : 0.0,
	    (unsigned long long)st->tree_blobs,
	    (unsigned long long)st->packs);
	ops_line_put(&o, "Repository:         %s in %llu packs, %llu blobs",
	    gfsb_size_format(st->repo_pack_bytes, a, sizeof(a)),
	    (unsigned long long)st->repo_packs,
	    (unsigned long long)st->repo_blobs);
	ops_line_put(&o, "Index in memory:    %s for %llu blobs (%.0f bytes "
	    "each)", gfsb_size_format(st->index_bytes, b, sizeof(b)),
	    (unsigned long long)st->index_blobs, st->index_blobs > 0 ?
	    (double)st->index_bytes / (double)st->index_blobs : 0.0);
	return ops_line_fini(&o);
}
