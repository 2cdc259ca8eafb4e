/*
 * mount, the file system's model (ops_mount_fuse.c puts it behind FUSE):
 * a read-only tree of every snapshot, reached by id, by time, by host, by
 * tag and by GFS role, each of those a symlink to ids/<short id>/.  A
 * path inside a snapshot is walked through its trees (kept in a small
 * cache); a read loads only the blobs its range covers (the last few are
 * kept, for sequential reads), each one range read of the blob in its
 * pack.  Not thread-safe: the FUSE loop runs single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define TREES_CACHED 256
#define BLOBS_CACHED 4

/* A symlink of the virtual part: dir/name -> target. */
struct vlink {
	char *dir, *name, *target;
};

struct ctree {
	uint8_t id[GFSB_ID_LEN];
	struct gfsb_tree t;
	uint64_t used;		/* for eviction: the oldest use goes */
	int full;
};

struct cblob {
	uint8_t id[GFSB_ID_LEN];
	struct gfsb_buf b;
	uint64_t used;
	int full;
};

struct gfsb_mfs {
	struct gfsb_repo *r;
	struct gfsb_repo_io *io;
	struct gfsb_snapshot **snaps;
	size_t nsnaps;
	char **vdirs;		/* the virtual directories, "/" first */
	size_t nvdirs;
	struct vlink *links;
	size_t nlinks;
	struct ctree trees[TREES_CACHED];
	struct cblob blobs[BLOBS_CACHED];
	uint64_t clock;
	struct gfsb_time mounted;
};

static gfsb_err
strv_push(char ***v, size_t *n, const char *s)
{
	char **grown;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return GFSB_OK;
	if ((grown = realloc(*v, (*n + 1) * sizeof(*grown))) == NULL)
		return GFSB_ENOMEM;
	*v = grown;
	if ((grown[*n] = strdup(s)) == NULL)
		return GFSB_ENOMEM;
	(*n)++;
	return GFSB_OK;
}

/* A name for s in dir: its local time, and its short id after that when
 * the time is taken already (two snapshots of one second). */
static gfsb_err
add_link(struct gfsb_mfs *m, const char *dir, const struct gfsb_snapshot *s,
    const char *up)
{
	struct vlink *grown, *l;
	char name[96], target[64];
	size_t i;
	gfsb_err e;

	if ((e = strv_push(&m->vdirs, &m->nvdirs, dir)) != GFSB_OK)
		return e;
	gfsb_time_format_local(&s->time, name, sizeof(name));
	for (i = 0; name[i] != '\0'; i++)
		if (name[i] == ' ')
			name[i] = 'T';
	for (i = 0; i < m->nlinks; i++)
		if (strcmp(m->links[i].dir, dir) == 0 &&
		    strcmp(m->links[i].name, name) == 0) {
			snprintf(name + strlen(name), sizeof(name) -
			    strlen(name), "-%.8s", s->id);
			break;
		}
	snprintf(target, sizeof(target), "%sids/%.8s", up, s->id);
	if ((grown = realloc(m->links, (m->nlinks + 1) * sizeof(*grown))) ==
	    NULL)
		return GFSB_ENOMEM;
	m->links = grown;
	l = &m->links[m->nlinks];
	l->dir = strdup(dir);
	l->name = strdup(name);
	l->target = strdup(target);
	m->nlinks++;
	return l->dir && l->name && l->target ? GFSB_OK : GFSB_ENOMEM;
}

/* The roles under the policy (a dry-run forget); without one, each
 * snapshot that is the newest of its day, ISO week, month, year. */
static gfsb_err
add_roles(struct gfsb_mfs *m, const struct gfsb_policy *pol)
{
	static const struct { unsigned bit; const char *dir; } roles[] = {
		{ GFSB_ROLE_DAILY, "/daily" },
		{ GFSB_ROLE_WEEKLY, "/weekly" },
		{ GFSB_ROLE_MONTHLY, "/monthly" },
		{ GFSB_ROLE_YEARLY, "/yearly" },
	};
	struct gfsb_gfs_decision *dec;
	struct gfsb_policy *all = NULL;
	size_t i, k;
	gfsb_err e;

	if ((dec = calloc(m->nsnaps + 1, sizeof(*dec))) == NULL)
		return GFSB_ENOMEM;
	if (pol == NULL) {
		e = gfsb_gfs_policy_new(&all);
		for (k = 0; k < 4 && e == GFSB_OK; k++)
			e = gfsb_gfs_policy_set(gfsb_repo_ctx(m->r), all,
			    k == 0 ? "keep-daily" : k == 1 ? "keep-weekly" :
			    k == 2 ? "keep-monthly" : "keep-yearly", "1000000",
			    "mount");
		if (e != GFSB_OK)
			goto out;
		pol = all;
	}
	if ((e = ops_decide(pol, GFSB_GROUP_HOST | GFSB_GROUP_PATHS, m->snaps,
	    m->nsnaps, &m->mounted, dec)) != GFSB_OK)
		goto out;
	for (i = 0; i < m->nsnaps && e == GFSB_OK; i++)
		for (k = 0; k < 4 && e == GFSB_OK; k++)
			if (dec[i].keep && (dec[i].roles & roles[k].bit))
				e = add_link(m, roles[k].dir, m->snaps[i],
				    "../");
out:
	gfsb_gfs_policy_free(all);
	free(dec);
	return e;
}

/* The virtual part: ids/, snapshots/, hosts/H/, tags/T/, the roles,
 * latest. */
static gfsb_err
build(struct gfsb_mfs *m, const struct gfsb_policy *pol)
{
	char dir[600];
	size_t i, k;
	gfsb_err e = GFSB_OK;

	if ((e = strv_push(&m->vdirs, &m->nvdirs, "/")) != GFSB_OK ||
	    (e = strv_push(&m->vdirs, &m->nvdirs, "/ids")) != GFSB_OK ||
	    (e = strv_push(&m->vdirs, &m->nvdirs, "/snapshots")) != GFSB_OK ||
	    (e = strv_push(&m->vdirs, &m->nvdirs, "/hosts")) != GFSB_OK ||
	    (e = strv_push(&m->vdirs, &m->nvdirs, "/tags")) != GFSB_OK)
		return e;
	for (i = 0; i < m->nsnaps && e == GFSB_OK; i++) {
		e = add_link(m, "/snapshots", m->snaps[i], "../");
		snprintf(dir, sizeof(dir), "/hosts/%s", m->snaps[i]->hostname);
		if (e == GFSB_OK && strchr(m->snaps[i]->hostname, '/') == NULL)
			e = add_link(m, dir, m->snaps[i], "../../");
		for (k = 0; k < m->snaps[i]->ntags && e == GFSB_OK; k++) {
			snprintf(dir, sizeof(dir), "/tags/%s",
			    m->snaps[i]->tags[k]);
			if (strchr(m->snaps[i]->tags[k], '/') == NULL)
				e = add_link(m, dir, m->snaps[i], "../../");
		}
	}
	if (e == GFSB_OK)
		e = add_roles(m, pol);
	if (e == GFSB_OK && m->nsnaps > 0) {
		/* latest: the newest (the list is oldest first). */
		e = add_link(m, "/", m->snaps[m->nsnaps - 1], "");
		if (e == GFSB_OK) {
			free(m->links[m->nlinks - 1].name);
			m->links[m->nlinks - 1].name = strdup("latest");
			if (m->links[m->nlinks - 1].name == NULL)
				e = GFSB_ENOMEM;
		}
	}
	return e;
}

static int
snapcmp(const void *a, const void *b)
{
	const struct gfsb_snapshot *x = *(struct gfsb_snapshot *const *)a;
	const struct gfsb_snapshot *y = *(struct gfsb_snapshot *const *)b;
	int c = gfsb_time_cmp(&x->time, &y->time);

	return c != 0 ? c : strcmp(x->id, y->id);
}

gfsb_err
gfsb_mfs_open(struct gfsb_repo *r, const struct gfsb_policy *pol,
    struct gfsb_mfs **out)
{
	struct gfsb_mfs *m;
	gfsb_err e;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return GFSB_ENOMEM;
	m->r = r;
	gfsb_time_now(&m->mounted);
	if ((e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(r, &m->io)) != GFSB_OK ||
	    (e = gfsb_repo_snapshot_list(r, &m->snaps, &m->nsnaps)) !=
	    GFSB_OK) {
		gfsb_mfs_close(m);
		return e;
	}
	qsort(m->snaps, m->nsnaps, sizeof(*m->snaps), snapcmp);
	if ((e = build(m, pol)) != GFSB_OK) {
		gfsb_mfs_close(m);
		return e;
	}
	*out = m;
	return GFSB_OK;
}

void
gfsb_mfs_close(struct gfsb_mfs *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < TREES_CACHED; i++)
		if (m->trees[i].full)
			gfsb_repo_tree_fini(&m->trees[i].t);
	for (i = 0; i < BLOBS_CACHED; i++)
		gfsb_buf_fini(&m->blobs[i].b);
	for (i = 0; i < m->nlinks; i++) {
		free(m->links[i].dir);
		free(m->links[i].name);
		free(m->links[i].target);
	}
	free(m->links);
	for (i = 0; i < m->nvdirs; i++)
		free(m->vdirs[i]);
	free(m->vdirs);
	gfsb_repo_snapshot_list_free(m->snaps, m->nsnaps);
	gfsb_repo_io_free(m->io);
	free(m);
}

/* ---- inside a snapshot ---- */

/* The tree id, from the cache or loaded into it; NULL with *ep. */
static const struct gfsb_tree *
tree_get(struct gfsb_mfs *m, const uint8_t id[GFSB_ID_LEN], gfsb_err *ep)
{
	struct ctree *c, *victim = &m->trees[0];
	size_t i;

	for (i = 0; i < TREES_CACHED; i++) {
		c = &m->trees[i];
		if (c->full && memcmp(c->id, id, GFSB_ID_LEN) == 0) {
			c->used = ++m->clock;
			return &c->t;
		}
		if (!c->full || (victim->full && c->used < victim->used))
			victim = c;
	}
	if (victim->full)
		gfsb_repo_tree_fini(&victim->t);
	victim->full = 0;
	if ((*ep = gfsb_repo_tree_load(m->io, id, &victim->t)) != GFSB_OK)
		return NULL;
	memcpy(victim->id, id, GFSB_ID_LEN);
	victim->full = 1;
	victim->used = ++m->clock;
	return &victim->t;
}

/* The entry called name in t (names in strictly ascending order). */
static const struct gfsb_node *
in_tree(const struct gfsb_tree *t, const char *name, size_t len)
{
	size_t lo = 0, hi = t->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strncmp(name, t->nodes[mid].name, len);
		if (c == 0 && t->nodes[mid].name[len] != '\0')
			c = -1;
		if (c == 0)
			return &t->nodes[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const struct gfsb_snapshot *
by_short_id(const struct gfsb_mfs *m, const char *id, size_t len)
{
	size_t i;

	if (len != 8)
		return NULL;
	for (i = 0; i < m->nsnaps; i++)
		if (strncmp(m->snaps[i]->id, id, 8) == 0)
			return m->snaps[i];
	return NULL;
}

/*
 * What path is: a virtual directory (*vdir), a virtual symlink (*link),
 * a snapshot's root (*snap, *node NULL) or a node in it (*node, pointing
 * into the tree cache: valid until the next lookup).  -errno.
 */
struct mfs_at {
	int vdir;
	const struct vlink *link;
	const struct gfsb_snapshot *snap;
	const struct gfsb_node *node;
};

static int
lookup(struct gfsb_mfs *m, const char *path, struct mfs_at *at)
{
	const char *p, *end;
	const uint8_t *tree;
	const struct gfsb_tree *t;
	size_t i, dl;
	gfsb_err e = GFSB_OK;

	memset(at, 0, sizeof(at[0]));
	for (i = 0; i < m->nvdirs; i++)
		if (strcmp(m->vdirs[i], path) == 0) {
			at->vdir = 1;
			return 0;
		}
	for (i = 0; i < m->nlinks; i++) {
		dl = strlen(m->links[i].dir);
		if (strncmp(path, m->links[i].dir, dl) == 0 &&
		    path[dl == 1 ? 0 : dl] == '/' &&
		    strcmp(path + (dl == 1 ? 1 : dl + 1), m->links[i].name) ==
		    0) {
			at->link = &m->links[i];
			return 0;
		}
	}
	if (strncmp(path, "/ids/", 5) != 0)
		return -ENOENT;
	p = path + 5;
	end = p + strcspn(p, "/");
	if ((at->snap = by_short_id(m, p, (size_t)(end - p))) == NULL)
		return -ENOENT;
	tree = at->snap->tree;
	for (p = end; *p == '/'; p = end) {
		p++;
		end = p + strcspn(p, "/");
		if (end == p)
			continue;
		if (at->node != NULL && at->node->kind != GFSB_NODE_DIR)
			return -ENOTDIR;
		if ((t = tree_get(m, tree, &e)) == NULL)
			return e == GFSB_ENOMEM ? -ENOMEM : -EIO;
		if ((at->node = in_tree(t, p, (size_t)(end - p))) == NULL)
			return -ENOENT;
		tree = at->node->subtree;
	}
	return 0;
}

static void
node_stat(const struct gfsb_node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = n->mode;
	st->st_nlink = n->nlink > 0 ? n->nlink : 1;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_size = (off_t)n->size;
	st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
	st->st_rdev = (dev_t)n->rdev;
	st->st_ino = (ino_t)n->inode;
	st->st_mtim.tv_sec = (time_t)n->mtime.sec;
	st->st_mtim.tv_nsec = (long)n->mtime.nsec;
	st->st_ctim.tv_sec = (time_t)n->ctime.sec;
	st->st_ctim.tv_nsec = (long)n->ctime.nsec;
	st->st_atim = st->st_mtim;
	if (n->kind == GFSB_NODE_SYMLINK && n->target != NULL)
		st->st_size = (off_t)strlen(n->target);
}

int
gfsb_mfs_stat(struct gfsb_mfs *m, const char *path, struct stat *st)
{
	struct mfs_at at;
	int rc;

	if ((rc = lookup(m, path, &at)) != 0)
		return rc;
	if (at.node != NULL) {
		node_stat(at.node, st);
		return 0;
	}
	memset(st, 0, sizeof(*st));
	st->st_uid = 0;
	st->st_mtim.tv_sec = (time_t)(at.snap != NULL ? at.snap->time.sec :
	    m->mounted.sec);
	st->st_atim = st->st_ctim = st->st_mtim;
	if (at.link != NULL) {
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(at.link->target);
	} else {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	}
	return 0;
}

int
gfsb_mfs_readlink(struct gfsb_mfs *m, const char *path, char *buf,
    size_t len)
{
	struct mfs_at at;
	const char *target;
	int rc;

	if ((rc = lookup(m, path, &at)) != 0)
		return rc;
	if (at.link != NULL)
		target = at.link->target;
	else if (at.node != NULL && at.node->kind == GFSB_NODE_SYMLINK &&
	    at.node->target != NULL)
		target = at.node->target;
	else
		return -EINVAL;
	if (len == 0)
		return -EINVAL;
	snprintf(buf, len, "%s", target);
	return 0;
}

/* The virtual directory dir's entries: sub-directories and links. */
static int
vdir_list(struct gfsb_mfs *m, const char *dir, gfsb_mfs_fill_fn *fill,
    void *cookie)
{
	size_t i, dl = strlen(dir);
	const char *rest;

	for (i = 0; i < m->nvdirs; i++) {
		if (strcmp(m->vdirs[i], dir) == 0 ||
		    strncmp(m->vdirs[i], dir, dl) != 0)
			continue;
		rest = m->vdirs[i] + (dl == 1 ? 1 : dl + 1);
		if ((dl == 1 || m->vdirs[i][dl] == '/') &&
		    strchr(rest, '/') == NULL && fill(cookie, rest) != 0)
			return 0;
	}
	for (i = 0; i < m->nlinks; i++)
		if (strcmp(m->links[i].dir, dir) == 0 &&
		    fill(cookie, m->links[i].name) != 0)
			return 0;
	if (strcmp(dir, "/ids") == 0)
		for (i = 0; i < m->nsnaps; i++) {
			char id[9];

			snprintf(id, sizeof(id), "%.8s", m->snaps[i]->id);
			if (fill(cookie, id) != 0)
				return 0;
		}
	return 0;
}

int
gfsb_mfs_readdir(struct gfsb_mfs *m, const char *path, gfsb_mfs_fill_fn *fill,
    void *cookie)
{
	const struct gfsb_tree *t;
	struct mfs_at at;
	size_t i;
	gfsb_err e = GFSB_OK;
	int rc;

	if ((rc = lookup(m, path, &at)) != 0)
		return rc;
	if (at.vdir)
		return vdir_list(m, path, fill, cookie);
	if (at.link != NULL || (at.node != NULL &&
	    at.node->kind != GFSB_NODE_DIR))
		return -ENOTDIR;
	if ((t = tree_get(m, at.node != NULL ? at.node->subtree :
	    at.snap->tree, &e)) == NULL)
		return e == GFSB_ENOMEM ? -ENOMEM : -EIO;
	for (i = 0; i < t->n; i++)
		if (fill(cookie, t->nodes[i].name) != 0)
			break;
	return 0;
}

/* Blob id's plaintext, from the few kept or read (one range read). */
static const struct gfsb_buf *
blob_get(struct gfsb_mfs *m, const uint8_t id[GFSB_ID_LEN], gfsb_err *ep)
{
	struct cblob *c, *victim = &m->blobs[0];
	size_t i;

	for (i = 0; i < BLOBS_CACHED; i++) {
		c = &m->blobs[i];
		if (c->full && memcmp(c->id, id, GFSB_ID_LEN) == 0) {
			c->used = ++m->clock;
			return &c->b;
		}
		if (!c->full || (victim->full && c->used < victim->used))
			victim = c;
	}
	victim->full = 0;
	if ((*ep = gfsb_repo_blob_read(m->io, GFSB_BLOB_DATA, id,
	    &victim->b)) != GFSB_OK)
		return NULL;
	memcpy(victim->id, id, GFSB_ID_LEN);
	victim->full = 1;
	victim->used = ++m->clock;
	return &victim->b;
}

long
gfsb_mfs_read(struct gfsb_mfs *m, const char *path, uint64_t off, char *buf,
    size_t size)
{
	const struct gfsb_buf *b;
	struct gfsb_node n;
	struct mfs_at at;
	uint64_t pos = 0, from, len;
	size_t i, done = 0;
	gfsb_err e = GFSB_OK;
	int rc;

	if ((rc = lookup(m, path, &at)) != 0)
		return rc;
	if (at.node == NULL || at.node->kind != GFSB_NODE_FILE)
		return at.node == NULL || at.node->kind == GFSB_NODE_DIR ?
		    -EISDIR : -EINVAL;
	/* The node points into the tree cache, which a blob read leaves
	 * alone; its extents are walked as they are. */
	n = *at.node;
	for (i = 0; i < n.nextents && done < size; i++) {
		len = n.extents[i].len;
		if (off + done >= pos + len) {
			pos += len;
			continue;
		}
		from = off + done - pos;
		len = len - from < size - done ? len - from : size - done;
		if (n.extents[i].hole) {
			memset(buf + done, 0, (size_t)len);
		} else if ((b = blob_get(m, n.extents[i].id, &e)) == NULL ||
		    b->len < from + len) {
			return e == GFSB_ENOMEM ? -ENOMEM : -EIO;
		} else {
			memcpy(buf + done, b->data + from, (size_t)len);
		}
		done += (size_t)len;
		pos += n.extents[i].len;
	}
	return (long)done;
}
