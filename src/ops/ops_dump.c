/*
 * dump: one path of a snapshot to a file descriptor.  A file's content
 * (its holes as zeros), every blob checked as a restore checks it; a
 * directory (or the whole snapshot) as a pax archive, by the restore
 * engine, so that it carries what a restore would write.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define ZEROS (64U << 10)

/* len zero bytes: a hole. */
static int
zeros(int fd, uint64_t len)
{
	static const uint8_t z[ZEROS];
	size_t n;

	for (; len > 0; len -= n) {
		n = len < ZEROS ? (size_t)len : ZEROS;
		if (gfsb_sys_write_full(fd, z, n) != 0)
			return -1;
	}
	return 0;
}

/* The file n's content to fd. */
static gfsb_err
dump_file(struct gfsb_repo *r, struct gfsb_repo_io *io,
    const struct gfsb_node *n, const char *path, int fd,
    struct gfsb_dump_result *res)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	struct gfsb_buf b;
	size_t i;
	gfsb_err e = GFSB_OK;

	gfsb_buf_init(&b);
	for (i = 0; i < n->nextents && e == GFSB_OK; i++) {
		const struct gfsb_extent *x = &n->extents[i];

		if (x->hole) {
			if (zeros(fd, x->len) != 0)
				e = GFSB_EIO;
		} else if ((e = gfsb_repo_blob_read(io, GFSB_BLOB_DATA, x->id,
		    &b)) != GFSB_OK) {
			break;
		} else if (b.len != x->len) {
			e = gfsb_ctx_seterr(ctx, GFSB_ECORRUPT, "%s: a blob of "
			    "%zu bytes where the tree says %llu", path, b.len,
			    (unsigned long long)x->len);
		} else if (gfsb_sys_write_full(fd, b.data, b.len) != 0) {
			e = GFSB_EIO;
		}
		if (e == GFSB_EIO)
			gfsb_ctx_seterr(ctx, e, "writing %s: %s", path,
			    strerror(errno));
		if (e == GFSB_OK)
			res->bytes += x->len;
	}
	gfsb_buf_fini(&b);
	return e;
}

gfsb_err
gfsb_ops_dump(struct gfsb_repo *r, const struct gfsb_dump_opts *o,
    struct gfsb_dump_result *res)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	struct gfsb_snapshot *s = NULL;
	struct gfsb_repo_io *io = NULL;
	struct gfsb_restore_opts ro;
	struct gfsb_restore_result rr;
	struct gfsb_node node;
	char clean[PATH_MAX];
	int is_root = 0;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	memset(&node, 0, sizeof(node));
	if (gfsb_ops_path_clean(o->path != NULL ? o->path : "/", clean,
	    sizeof(clean)) != GFSB_OK)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid path %s",
		    o->path);
	if ((e = gfsb_repo_snapshot_find(r, o->snapshot, o->host, &s)) !=
	    GFSB_OK || (e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_io_new(r, &io)) != GFSB_OK)
		goto out;
	snprintf(res->snapshot_id, sizeof(res->snapshot_id), "%s", s->id);
	if ((e = ops_find_path(io, s->tree, clean, &node, &is_root)) !=
	    GFSB_OK) {
		if (e == GFSB_ENOTFOUND)
			gfsb_ctx_seterr(ctx, e, "%s: not in snapshot %.8s",
			    clean, s->id);
		goto out;
	}
	if (!is_root && node.kind == GFSB_NODE_FILE) {
		e = dump_file(r, io, &node, clean, o->fd, res);
		goto out;
	}
	if (!is_root && node.kind != GFSB_NODE_DIR) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s is neither a file "
		    "nor a directory: nothing to dump", clean);
		goto out;
	}
	/* A directory: the restore engine's archive of it. */
	memset(&ro, 0, sizeof(ro));
	ro.snapshot = s->id;
	ro.subpath = is_root ? NULL : clean;
	ro.tar = "-";
	ro.tar_fd = o->fd;
	ro.no_lock = o->no_lock;
	res->archive = 1;
	if ((e = gfsb_ops_restore(r, &ro, &rr)) == GFSB_OK) {
		res->bytes = rr.bytes;
		res->damaged_files = rr.damaged_files;
	}
out:
	gfsb_repo_node_fini(&node);
	gfsb_repo_io_free(io);
	gfsb_repo_snapshot_free(s);
	return e;
}
