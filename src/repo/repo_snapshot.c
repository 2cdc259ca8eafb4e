/*
 * Snapshots: one small sealed JSON object per backup, naming the root tree.
 *
 * JSON because a snapshot is small, read by people through `snapshots
 * --json`, and will grow fields; field names follow restic's so that
 * operators' scripts carry over.  A snapshot is written only after the
 * packs and index it depends on (the caller flushes first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

#define SNAP_MAX_LIST 100000

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
gfsb_repo_snapshot_free(struct gfsb_snapshot *s)
{
	if (s == NULL)
		return;
	free(s->hostname);
	free(s->username);
	strv_free(s->paths, s->npaths);
	strv_free(s->tags, s->ntags);
	strv_free(s->excludes, s->nexcludes);
	free(s->program_version);
	free(s);
}

void
gfsb_repo_snapshot_list_free(struct gfsb_snapshot **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		gfsb_repo_snapshot_free(list[i]);
	free(list);
}

static json_t *
strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
time_json(const struct gfsb_time *t)
{
	char buf[64];

	gfsb_time_format_rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
summary_json(const struct gfsb_snapshot_summary *m)
{
	return json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I}",
	    "backup_start", time_json(&m->backup_start),
	    "backup_end", time_json(&m->backup_end),
	    "files_new", (json_int_t)m->files_new,
	    "files_changed", (json_int_t)m->files_changed,
	    "files_unmodified", (json_int_t)m->files_unmodified,
	    "dirs_new", (json_int_t)m->dirs_new,
	    "dirs_changed", (json_int_t)m->dirs_changed,
	    "dirs_unmodified", (json_int_t)m->dirs_unmodified,
	    "data_blobs", (json_int_t)m->data_blobs,
	    "tree_blobs", (json_int_t)m->tree_blobs,
	    "data_added", (json_int_t)m->data_added,
	    "data_added_packed", (json_int_t)m->data_added_packed,
	    "total_files_processed", (json_int_t)m->total_files_processed,
	    "total_bytes_processed", (json_int_t)m->total_bytes_processed,
	    "warnings", (json_int_t)m->warnings);
}

char *
gfsb_repo_snapshot_summary_json(const struct gfsb_snapshot_summary *m)
{
	json_t *o = summary_json(m);
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

/* The JSON form; with `listing`, add id and short_id as restic prints. */
static json_t *
snap_json(const struct gfsb_snapshot *s, int listing)
{
	char tree[GFSB_ID_HEX], shortid[9];
	json_t *o;

	gfsb_hex_encode(s->tree, GFSB_ID_LEN, tree);
	o = json_object();
	if (o == NULL)
		return NULL;
	if (listing) {
		snprintf(shortid, sizeof(shortid), "%.8s", s->id);
		json_object_set_new(o, "id", json_string(s->id));
		json_object_set_new(o, "short_id", json_string(shortid));
	}
	json_object_set_new(o, "time", time_json(&s->time));
	json_object_set_new(o, "tree", json_string(tree));
	json_object_set_new(o, "paths", strv_json(s->paths, s->npaths));
	json_object_set_new(o, "hostname", json_string(s->hostname));
	json_object_set_new(o, "username", json_string(s->username));
	json_object_set_new(o, "uid", json_integer(s->uid));
	json_object_set_new(o, "gid", json_integer(s->gid));
	if (s->ntags > 0 || !listing)
		json_object_set_new(o, "tags", strv_json(s->tags, s->ntags));
	if (s->nexcludes > 0 || !listing)
		json_object_set_new(o, "excludes",
		    strv_json(s->excludes, s->nexcludes));
	if (s->parent[0] != '\0')
		json_object_set_new(o, "parent", json_string(s->parent));
	if (s->original[0] != '\0')
		json_object_set_new(o, "original", json_string(s->original));
	if (s->writer[0] != '\0')
		json_object_set_new(o, "writer", json_string(s->writer));
	if (s->program_version != NULL)
		json_object_set_new(o, "program_version",
		    json_string(s->program_version));
	if (s->has_summary)
		json_object_set_new(o, "summary", summary_json(&s->summary));
	return o;
}

/* The snapshot's text fields, each well-formed UTF-8?  JSON holds no
 * other: a field that is not would be left out, and the snapshot then
 * read as malformed. */
static const char *
not_text(const struct gfsb_snapshot *s)
{
	size_t i;

	for (i = 0; i < s->npaths; i++)
		if (!gfsb_utf8_valid(s->paths[i]))
			return "a path";
	for (i = 0; i < s->ntags; i++)
		if (!gfsb_utf8_valid(s->tags[i]))
			return "a tag";
	for (i = 0; i < s->nexcludes; i++)
		if (!gfsb_utf8_valid(s->excludes[i]))
			return "an exclude pattern";
	if (s->hostname != NULL && !gfsb_utf8_valid(s->hostname))
		return "the host name";
	if (s->username != NULL && !gfsb_utf8_valid(s->username))
		return "the user name";
	return NULL;
}

gfsb_err
gfsb_repo_snapshot_save(struct gfsb_repo *r, struct gfsb_snapshot *s)
{
	const char *what;
	json_t *o;
	char *text = NULL;
	gfsb_err e = GFSB_ENOMEM;

	if ((what = not_text(s)) != NULL)
		return gfsb_ctx_seterr(r->ctx, GFSB_EINVAL, "%s of the "
		    "snapshot is not UTF-8: not saved", what);
	/* Which write-only key wrote it: the report names it. */
	if (r->writer != NULL)
		snprintf(s->writer, sizeof(s->writer), "%s", r->key_id);
	if ((o = snap_json(s, 0)) == NULL)
		return GFSB_ENOMEM;
	json_object_set_new(o, "version", json_integer(1));
	if ((text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) != NULL)
		e = repo_obj_store(r, GFSB_OBJ_SNAPSHOT, ENV_SNAPSHOT,
		    (const uint8_t *)text, strlen(text), s->id);
	/* A write-only key keeps what it cannot read back. */
	if (e == GFSB_OK && r->writer != NULL)
		repo_wcache_put(r, "snapshots", s->id, (const uint8_t *)text,
		    strlen(text));
	free(text);
	json_decref(o);
	return e;
}

static gfsb_err
strv_parse(json_t *a, char ***out, size_t *n)
{
	char **v;
	size_t i;

	*out = NULL;
	*n = 0;
	if (a == NULL)
		return GFSB_OK;
	if (!json_is_array(a))
		return GFSB_ECORRUPT;
	if (json_array_size(a) == 0)
		return GFSB_OK;
	if ((v = calloc(json_array_size(a), sizeof(*v))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (s == NULL || (v[i] = strdup(s)) == NULL) {
			strv_free(v, i);
			return s == NULL ? GFSB_ECORRUPT : GFSB_ENOMEM;
		}
	}
	*out = v;
	*n = i;
	return GFSB_OK;
}

static gfsb_err
summary_parse(json_t *o, struct gfsb_snapshot_summary *m)
{
	const char *bs = NULL, *be = NULL;
	json_int_t v[13] = { 0 };
	int i;

	if (json_unpack(o, "{s:s, s:s, s?I, s?I, s?I, s?I, s?I, s?I, s?I, "
	    "s?I, s?I, s?I, s?I, s?I, s?I}", "backup_start", &bs,
	    "backup_end", &be, "files_new", &v[0], "files_changed", &v[1],
	    "files_unmodified", &v[2], "dirs_new", &v[3], "dirs_changed",
	    &v[4], "dirs_unmodified", &v[5], "data_blobs", &v[6],
	    "tree_blobs", &v[7], "data_added", &v[8], "data_added_packed",
	    &v[9], "total_files_processed", &v[10], "total_bytes_processed",
	    &v[11], "warnings", &v[12]) != 0)
		return GFSB_ECORRUPT;
	for (i = 0; i < 13; i++)
		if (v[i] < 0)
			return GFSB_ECORRUPT;
	if (gfsb_time_parse_rfc3339(bs, &m->backup_start) != GFSB_OK ||
	    gfsb_time_parse_rfc3339(be, &m->backup_end) != GFSB_OK)
		return GFSB_ECORRUPT;
	m->files_new = (uint64_t)v[0];
	m->files_changed = (uint64_t)v[1];
	m->files_unmodified = (uint64_t)v[2];
	m->dirs_new = (uint64_t)v[3];
	m->dirs_changed = (uint64_t)v[4];
	m->dirs_unmodified = (uint64_t)v[5];
	m->data_blobs = (uint64_t)v[6];
	m->tree_blobs = (uint64_t)v[7];
	m->data_added = (uint64_t)v[8];
	m->data_added_packed = (uint64_t)v[9];
	m->total_files_processed = (uint64_t)v[10];
	m->total_bytes_processed = (uint64_t)v[11];
	m->warnings = (uint64_t)v[12];
	return GFSB_OK;
}

gfsb_err
repo_snapshot_decode(const uint8_t *p, size_t n, struct gfsb_snapshot *s)
{
	const char *time = NULL, *tree = NULL, *host = NULL, *user = NULL,
	    *parent = NULL, *version = NULL, *original = NULL, *writer = NULL;
	json_t *o, *paths = NULL, *tags = NULL, *excl = NULL, *sum = NULL;
	json_int_t fmt = 0, uid = 0, gid = 0;
	json_error_t jerr;
	gfsb_err e = GFSB_ECORRUPT;

	if ((o = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL)
		return GFSB_ECORRUPT;
	if (json_unpack(o, "{s:I, s:s, s:s, s:o, s:s, s:s, s?I, s?I, s?o, "
	    "s?o, s?s, s?s, s?o, s?s, s?s}", "version", &fmt, "time", &time,
	    "tree", &tree, "paths", &paths, "hostname", &host, "username",
	    &user, "uid", &uid, "gid", &gid, "tags", &tags, "excludes", &excl,
	    "parent", &parent, "program_version", &version, "summary",
	    &sum, "original", &original, "writer", &writer) != 0)
		goto out;
	if (fmt != 1) {
		e = GFSB_EUNSUPPORTED;
		goto out;
	}
	if (gfsb_time_parse_rfc3339(time, &s->time) != GFSB_OK ||
	    gfsb_hex_decode(tree, s->tree, GFSB_ID_LEN) != GFSB_OK ||
	    uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX)
		goto out;
	if (parent != NULL) {
		uint8_t tmp[GFSB_ID_LEN];

		if (gfsb_hex_decode(parent, tmp, sizeof(tmp)) != GFSB_OK)
			goto out;
		snprintf(s->parent, sizeof(s->parent), "%s", parent);
	}
	if (original != NULL) {
		uint8_t tmp[GFSB_ID_LEN];

		if (gfsb_hex_decode(original, tmp, sizeof(tmp)) != GFSB_OK)
			goto out;
		snprintf(s->original, sizeof(s->original), "%s", original);
	}
	if (writer != NULL) {
		uint8_t tmp[GFSB_ID_LEN];

		if (gfsb_hex_decode(writer, tmp, sizeof(tmp)) != GFSB_OK)
			goto out;
		snprintf(s->writer, sizeof(s->writer), "%s", writer);
	}
	s->uid = (uint32_t)uid;
	s->gid = (uint32_t)gid;
	if ((s->hostname = strdup(host)) == NULL ||
	    (s->username = strdup(user)) == NULL ||
	    (version != NULL &&
	    (s->program_version = strdup(version)) == NULL)) {
		e = GFSB_ENOMEM;
		goto out;
	}
	if ((e = strv_parse(paths, &s->paths, &s->npaths)) != GFSB_OK ||
	    (e = strv_parse(tags, &s->tags, &s->ntags)) != GFSB_OK ||
	    (e = strv_parse(excl, &s->excludes, &s->nexcludes)) != GFSB_OK)
		goto out;
	if (sum != NULL) {
		if ((e = summary_parse(sum, &s->summary)) != GFSB_OK)
			goto out;
		s->has_summary = 1;
	}
	e = GFSB_OK;
out:
	json_decref(o);
	return e;
}

gfsb_err
gfsb_repo_snapshot_load(struct gfsb_repo *r, const char *id,
    struct gfsb_snapshot **out)
{
	struct gfsb_snapshot *s;
	struct gfsb_buf plain;
	gfsb_err e;

	gfsb_buf_init(&plain);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return GFSB_ENOMEM;
	if ((e = repo_obj_load(r, GFSB_OBJ_SNAPSHOT, ENV_SNAPSHOT, id,
	    MAX_SNAPSHOT, &plain)) != GFSB_OK)
		goto fail;
	if ((e = repo_snapshot_decode(plain.data, plain.len, s)) != GFSB_OK) {
		gfsb_ctx_seterr(r->ctx, e, "snapshot %s is malformed", id);
		goto fail;
	}
	snprintf(s->id, sizeof(s->id), "%s", id);
	gfsb_buf_fini(&plain);
	*out = s;
	return GFSB_OK;
fail:
	gfsb_buf_fini(&plain);
	gfsb_repo_snapshot_free(s);
	return e;
}

static int snapcmp(const void *a, const void *b);

gfsb_err
gfsb_repo_writer_snapshots(struct gfsb_repo *r, struct gfsb_snapshot ***out,
    size_t *n)
{
	struct gfsb_snapshot **v = NULL, *s;
	struct gfsb_buf plain;
	char **names = NULL;
	size_t nnames = 0, i, k = 0;
	gfsb_err e;

	*out = NULL;
	*n = 0;
	gfsb_buf_init(&plain);
	if ((e = repo_wcache_names(r, "snapshots", &names, &nnames)) !=
	    GFSB_OK || (nnames > 0 && (v = calloc(nnames, sizeof(*v))) ==
	    NULL)) {
		e = GFSB_ENOMEM;
		goto out;
	}
	for (i = 0; i < nnames; i++) {
		/* One that does not open or decode is left out. */
		if (repo_wcache_get(r, "snapshots", names[i], MAX_SNAPSHOT,
		    &plain) != GFSB_OK || (s = calloc(1, sizeof(*s))) == NULL)
			continue;
		if (repo_snapshot_decode(plain.data, plain.len, s) != GFSB_OK) {
			gfsb_repo_snapshot_free(s);
			continue;
		}
		snprintf(s->id, sizeof(s->id), "%s", names[i]);
		v[k++] = s;
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), snapcmp);
	*out = v;
	*n = k;
	v = NULL;
out:
	free(v);
	gfsb_strv_free(names, nnames);
	gfsb_buf_wipe(&plain);
	return e;
}

struct snaplist {
	struct gfsb_repo *r;
	struct gfsb_snapshot **v;
	size_t n, cap;
};

static gfsb_err
collect_snapshot(void *cookie, const char *name, uint64_t size)
{
	struct snaplist *l = cookie;
	struct gfsb_snapshot **grown;
	gfsb_err e;

	(void)size;
	if (l->n >= SNAP_MAX_LIST)
		return gfsb_ctx_seterr(l->r->ctx, GFSB_ECORRUPT,
		    "more than %d snapshots", SNAP_MAX_LIST);
	if (l->n == l->cap) {
		size_t ncap = l->cap ? 2 * l->cap : 32;

		if ((grown = realloc(l->v, ncap * sizeof(*grown))) == NULL)
			return GFSB_ENOMEM;
		l->v = grown;
		l->cap = ncap;
	}
	e = gfsb_repo_snapshot_load(l->r, name, &l->v[l->n]);
	if (e == GFSB_ENOTFOUND) {
		/* Forgotten between the listing and the read. */
		gfsb_ctx_clearerr(l->r->ctx);
		return GFSB_OK;
	}
	if (e != GFSB_OK)
		return e;
	l->n++;
	return GFSB_OK;
}

static int
snapcmp(const void *a, const void *b)
{
	const struct gfsb_snapshot *x = *(struct gfsb_snapshot *const *)a;
	const struct gfsb_snapshot *y = *(struct gfsb_snapshot *const *)b;
	int c = gfsb_time_cmp(&x->time, &y->time);

	return c != 0 ? c : strcmp(x->id, y->id);
}

/* Cache sweep: keep copies of the snapshots just listed. */
static int
keep_snapshot(void *cookie, const char *name)
{
	struct snaplist *l = cookie;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i]->id, name) == 0)
			return 1;
	return 0;
}

gfsb_err
gfsb_repo_snapshot_list(struct gfsb_repo *r, struct gfsb_snapshot ***out,
    size_t *n)
{
	struct snaplist l = { r, NULL, 0, 0 };
	gfsb_err e;

	if ((e = gfsb_backend_list(r->be, GFSB_OBJ_SNAPSHOT, collect_snapshot,
	    &l)) != GFSB_OK) {
		gfsb_repo_snapshot_list_free(l.v, l.n);
		return e;
	}
	repo_cache_sweep(r, GFSB_OBJ_SNAPSHOT, keep_snapshot, &l);
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(l.v[0]), snapcmp);
	*out = l.v;
	*n = l.n;
	return GFSB_OK;
}

gfsb_err
gfsb_repo_snapshot_find(struct gfsb_repo *r, const char *spec,
    const char *host, struct gfsb_snapshot **out)
{
	struct gfsb_objlist names = { NULL, 0, 0 };
	struct gfsb_snapshot *found = NULL, *s;
	size_t plen = strlen(spec), matches = 0, i, which = 0;
	int latest = strcmp(spec, "latest") == 0;
	gfsb_err e;

	if (!latest && (plen == 0 || plen > 64 ||
	    strspn(spec, "0123456789abcdef") != plen))
		return gfsb_ctx_seterr(r->ctx, GFSB_EINVAL,
		    "invalid snapshot %s: give an id (prefix) or \"latest\"",
		    spec);
	if ((e = gfsb_backend_list_all(r->be, GFSB_OBJ_SNAPSHOT, &names)) !=
	    GFSB_OK)
		return e;
	if (!latest) {
		/* An id is found by name: a snapshot object that cannot be
		 * read (damaged, another repository's) must not stand in
		 * the way of the others. */
		for (i = 0; i < names.n; i++)
			if (strncmp(names.v[i].name, spec, plen) == 0) {
				matches++;
				which = i;
			}
		if (matches == 0)
			e = gfsb_ctx_seterr(r->ctx, GFSB_ENOTFOUND,
			    "no snapshot %s", spec);
		else if (matches > 1)
			e = gfsb_ctx_seterr(r->ctx, GFSB_EINVAL,
			    "snapshot prefix %s is ambiguous (%zu matches)",
			    spec, matches);
		else
			e = gfsb_repo_snapshot_load(r, names.v[which].name,
			    out);
		gfsb_objlist_fini(&names);
		return e;
	}
	/* The newest readable one (ties by id, as the list sorts). */
	for (i = 0; i < names.n; i++) {
		e = gfsb_repo_snapshot_load(r, names.v[i].name, &s);
		if (gfsb_err_is_damage(e)) {
			gfsb_ctx_log(r->ctx, GFSB_LOG_WARN, "snapshot %.16s is "
			    "unreadable and skipped: %s", names.v[i].name,
			    gfsb_ctx_errmsg(r->ctx));
			gfsb_ctx_clearerr(r->ctx);
			continue;
		}
		if (e != GFSB_OK)
			goto out;
		if ((host != NULL && strcmp(s->hostname, host) != 0) ||
		    (found != NULL && (gfsb_time_cmp(&s->time,
		    &found->time) < 0 || (gfsb_time_cmp(&s->time,
		    &found->time) == 0 && strcmp(s->id, found->id) < 0)))) {
			gfsb_repo_snapshot_free(s);
			continue;
		}
		gfsb_repo_snapshot_free(found);
		found = s;
	}
	if (found == NULL) {
		e = gfsb_ctx_seterr(r->ctx, GFSB_ENOTFOUND,
		    "no snapshot %s%s%s", spec, host ? " for host " : "",
		    host ? host : "");
		goto out;
	}
	*out = found;
	found = NULL;
	e = GFSB_OK;
out:
	gfsb_repo_snapshot_free(found);
	gfsb_objlist_fini(&names);
	return e;
}

char *
gfsb_repo_snapshot_json(struct gfsb_snapshot *const *list, size_t n)
{
	json_t *a = json_array(), *o;
	char *text = NULL;
	size_t i;

	if (a == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((o = snap_json(list[i], 1)) == NULL ||
		    json_array_append_new(a, o) != 0)
			goto out;
	}
	text = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(a);
	return text;
}

char *
gfsb_repo_snapshot_json_one(const struct gfsb_snapshot *s, int with_id)
{
	json_t *o = snap_json(s, 1);
	char *text = NULL;

	if (o == NULL)
		return NULL;
	if (!with_id) {
		json_object_del(o, "id");
		json_object_del(o, "short_id");
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

gfsb_err
gfsb_repo_snapshot_remove(struct gfsb_repo *r, const char *id)
{
	repo_cache_remove(r, GFSB_OBJ_SNAPSHOT, id);
	return gfsb_backend_remove(r->be, GFSB_OBJ_SNAPSHOT, id);
}
