/*
 * ls: walk a snapshot's trees depth first, in name order, and tell each
 * entry as gfsbackup ls prints it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"
#include "ops_line.h"

#define LS_MAX_DEPTH 65536

static gfsb_err
ls_tree(struct gfsb_repo_io *io, const uint8_t id[GFSB_ID_LEN],
    const char *prefix, gfsb_ls_fn *fn, void *cookie, int depth)
{
	struct gfsb_tree t;
	char *path;
	size_t i, plen = strlen(prefix);
	gfsb_err e;

	if (depth > LS_MAX_DEPTH)
		return GFSB_ECORRUPT;
	if ((e = gfsb_repo_tree_load(io, id, &t)) != GFSB_OK)
		return e;
	for (i = 0; i < t.n && e == GFSB_OK; i++) {
		const struct gfsb_node *n = &t.nodes[i];

		if ((path = malloc(plen + strlen(n->name) + 2)) == NULL) {
			e = GFSB_ENOMEM;
			break;
		}
		sprintf(path, "%s/%s", strcmp(prefix, "/") == 0 ? "" : prefix,
		    n->name);
		e = fn(cookie, path, n);
		if (e == GFSB_OK && n->kind == GFSB_NODE_DIR)
			e = ls_tree(io, n->subtree, path, fn, cookie,
			    depth + 1);
		free(path);
	}
	gfsb_repo_tree_fini(&t);
	return e;
}

gfsb_err
gfsb_ops_ls(struct gfsb_repo *r, const char *snapshot, const char *host,
    const char *path, gfsb_ls_fn *fn, void *cookie, struct gfsb_snapshot **out)
{
	struct gfsb_snapshot *s = NULL;
	struct gfsb_repo_io *io = NULL;
	struct gfsb_node node;
	char clean[PATH_MAX];
	int is_root;
	gfsb_err e;

	memset(&node, 0, sizeof(node));
	if (path == NULL)
		path = "/";
	if (gfsb_ops_path_clean(path, clean, sizeof(clean)) != GFSB_OK)
		return gfsb_ctx_seterr(gfsb_repo_ctx(r), GFSB_EINVAL,
		    "invalid path %s", path);
	if ((e = gfsb_repo_snapshot_find(r, snapshot, host, &s)) != GFSB_OK)
		return e;
	if ((e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(r, &io)) != GFSB_OK)
		goto out;
	if ((e = ops_find_path(io, s->tree, clean, &node, &is_root)) !=
	    GFSB_OK) {
		if (e == GFSB_ENOTFOUND)
			gfsb_ctx_seterr(gfsb_repo_ctx(r), e,
			    "%s: not in snapshot %.8s", clean, s->id);
		goto out;
	}
	if (!is_root && (e = fn(cookie, clean, &node)) != GFSB_OK)
		goto out;
	if (node.kind == GFSB_NODE_DIR)
		e = ls_tree(io, node.subtree, clean, fn, cookie, 0);
out:
	gfsb_repo_node_fini(&node);
	gfsb_repo_io_free(io);
	if (e == GFSB_OK && out != NULL)
		*out = s;
	else
		gfsb_repo_snapshot_free(s);
	return e;
}

/* ls -l's type and permissions: "drwxr-xr-x". */
static void
mode_string(const struct gfsb_node *n, char s[11])
{
	static const char kinds[] = "?-dlpcbs";

	s[0] = kinds[n->kind < 8 ? n->kind : 0];
	s[1] = n->mode & S_IRUSR ? 'r' : '-';
	s[2] = n->mode & S_IWUSR ? 'w' : '-';
	s[3] = n->mode & S_ISUID ? (n->mode & S_IXUSR ? 's' : 'S') :
	    (n->mode & S_IXUSR ? 'x' : '-');
	s[4] = n->mode & S_IRGRP ? 'r' : '-';
	s[5] = n->mode & S_IWGRP ? 'w' : '-';
	s[6] = n->mode & S_ISGID ? (n->mode & S_IXGRP ? 's' : 'S') :
	    (n->mode & S_IXGRP ? 'x' : '-');
	s[7] = n->mode & S_IROTH ? 'r' : '-';
	s[8] = n->mode & S_IWOTH ? 'w' : '-';
	s[9] = n->mode & S_ISVTX ? (n->mode & S_IXOTH ? 't' : 'T') :
	    (n->mode & S_IXOTH ? 'x' : '-');
	s[10] = '\0';
}

gfsb_err
gfsb_ops_ls_entry(const char *path, const struct gfsb_node *n, int lng,
    gfsb_ops_line_fn *fn, void *cookie)
{
	char mode[11], when[32], user[16], group[16];
	struct ops_lines o;

	if (!lng) {
		fn(cookie, GFSB_OPS_LINE_RESULT, path);
		return GFSB_OK;
	}
	mode_string(n, mode);
	gfsb_time_format_local(&n->mtime, when, sizeof(when));
	if (n->user != NULL)
		snprintf(user, sizeof(user), "%s", n->user);
	else
		snprintf(user, sizeof(user), "%u", n->uid);
	if (n->group != NULL)
		snprintf(group, sizeof(group), "%s", n->group);
	else
		snprintf(group, sizeof(group), "%u", n->gid);
	ops_line_init(&o, fn, cookie);
	ops_line_put(&o, "%s %-8s %-8s %12llu %s %s%s%s", mode, user, group,
	    (unsigned long long)n->size, when, path,
	    n->kind == GFSB_NODE_SYMLINK ? " -> " : "",
	    n->kind == GFSB_NODE_SYMLINK ? n->target : "");
	return ops_line_fini(&o);
}

/* gfsb_ops_ls_lines' way with each entry. */
struct ls_lines {
	int lng, json;
	gfsb_ops_line_fn *fn;
	void *cookie;
};

static gfsb_err
ls_line(void *cookie, const char *path, const struct gfsb_node *n)
{
	struct ls_lines *a = cookie;
	char *json;

	if (!a->json)
		return gfsb_ops_ls_entry(path, n, a->lng, a->fn, a->cookie);
	if ((json = gfsb_ops_node_json(path, n)) == NULL)
		return GFSB_ENOMEM;
	a->fn(a->cookie, GFSB_OPS_LINE_RESULT, json);
	free(json);
	return GFSB_OK;
}

gfsb_err
gfsb_ops_ls_lines(struct gfsb_repo *r, const char *snapshot,
    const char *host, const char *path, int lng, int json,
    gfsb_ops_line_fn *fn, void *cookie)
{
	struct ls_lines a = { lng, json, fn, cookie };
	struct gfsb_snapshot *s;
	char *line;
	gfsb_err e;

	/* restic's --json starts with the snapshot. */
	if (json) {
		if ((e = gfsb_repo_snapshot_find(r, snapshot, host, &s)) !=
		    GFSB_OK)
			return e;
		line = gfsb_ops_snapshot_json_line(s);
		gfsb_repo_snapshot_free(s);
		if (line == NULL)
			return GFSB_ENOMEM;
		fn(cookie, GFSB_OPS_LINE_RESULT, line);
		free(line);
	}
	return gfsb_ops_ls(r, snapshot, host, path, ls_line, &a, NULL);
}
