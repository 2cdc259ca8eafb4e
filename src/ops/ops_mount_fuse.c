/*
 * mount: the snapshots' file system (ops_mount.c) behind libfuse3, read
 * only and single-threaded.  Snapshots do not change, so the kernel may
 * keep names, attributes and pages for long.
 */
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <string.h>

#include <gfsbackup/ops.h>

#define CACHE_SECONDS 3600.0

static struct gfsb_mfs *
mfs(void)
{
	return fuse_get_context()->private_data;
}

static void *
mf_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->entry_timeout = CACHE_SECONDS;
	cfg->attr_timeout = CACHE_SECONDS;
	cfg->negative_timeout = CACHE_SECONDS;
	cfg->kernel_cache = 1;
	cfg->use_ino = 0;
	return fuse_get_context()->private_data;
}

static int
mf_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	return gfsb_mfs_stat(mfs(), path, st);
}

static int
mf_readlink(const char *path, char *buf, size_t len)
{
	return gfsb_mfs_readlink(mfs(), path, buf, len);
}

struct fill {
	void *buf;
	fuse_fill_dir_t filler;
};

static int
fill_one(void *cookie, const char *name)
{
	struct fill *f = cookie;

	return f->filler(f->buf, name, NULL, 0, 0) != 0;
}

static int
mf_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fill f = { buf, filler };

	(void)off;
	(void)fi;
	(void)flags;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	return gfsb_mfs_readdir(mfs(), path, fill_one, &f);
}

static int
mf_open(const char *path, struct fuse_file_info *fi)
{
	struct stat st;
	int rc;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	if ((rc = gfsb_mfs_stat(mfs(), path, &st)) != 0)
		return rc;
	fi->keep_cache = 1;
	return S_ISREG(st.st_mode) ? 0 : -EACCES;
}

static int
mf_read(const char *path, char *buf, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	(void)fi;
	return (int)gfsb_mfs_read(mfs(), path, (uint64_t)off, buf, size);
}

static const struct fuse_operations mf_ops = {
	.init = mf_init,
	.getattr = mf_getattr,
	.readlink = mf_readlink,
	.readdir = mf_readdir,
	.open = mf_open,
	.read = mf_read,
};

/* Mount m and serve it until unmounted or signalled. */
static gfsb_err
serve(struct gfsb_ctx *ctx, struct gfsb_mfs *m, const struct gfsb_mount_opts *o)
{
	char *argv[4] = { "gfsbackup", "-o", NULL, NULL };
	struct fuse_args args;
	struct fuse *f;
	char opts[128];
	int rc;

	snprintf(opts, sizeof(opts), "ro,fsname=gfsbackup,subtype=gfsbackup%s",
	    o->allow_other ? ",allow_other" : "");
	argv[2] = opts;
	args = (struct fuse_args)FUSE_ARGS_INIT(3, argv);
	f = fuse_new(&args, &mf_ops, sizeof(mf_ops), m);
	fuse_opt_free_args(&args); /* what fuse_new added to them */
	if (f == NULL)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot start FUSE");
	if (fuse_mount(f, o->mountpoint) != 0) {
		fuse_destroy(f);
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot mount at %s "
		    "(an existing, empty directory; /dev/fuse and fusermount3 "
		    "are needed)", o->mountpoint);
	}
	fuse_set_signal_handlers(fuse_get_session(f));
	if (o->ready != NULL)
		o->ready(o->cookie);
	rc = fuse_loop(f);
	fuse_remove_signal_handlers(fuse_get_session(f));
	fuse_unmount(f);
	fuse_destroy(f);
	if (rc < 0)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "the FUSE loop failed: "
		    "%s", strerror(-rc));
	return GFSB_OK;
}

gfsb_err
gfsb_ops_mount(struct gfsb_repo *r, const struct gfsb_mount_opts *o)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	struct gfsb_lock *lock = NULL;
	struct gfsb_mfs *m;
	gfsb_err e;

	if (!o->no_lock && (e = gfsb_repo_lock(r, 0, &lock)) != GFSB_OK)
		return e;
	if ((e = gfsb_mfs_open(r, o->policy, &m)) == GFSB_OK) {
		e = serve(ctx, m, o);
		gfsb_mfs_close(m);
	}
	gfsb_repo_unlock(lock);
	return e;
}
