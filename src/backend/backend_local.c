/*
 * The local backend: a repository in a directory.
 *
 * Layout: config, keys/<id>, data/<xx>/<id>, index/<id>, snapshots/<id>,
 * locks/<id>.  A put writes a temporary file in the object's own directory
 * (so the rename stays on one file system), fsyncs it, renames it into
 * place and fsyncs the directory: after a crash the object is either whole
 * or absent, and a leftover temporary file is never listed.  Removals fsync
 * the directory too, so deletions become durable in the order they were
 * made (the crash-safe order is the caller's).  Files are 0600 and
 * directories 0700: the repository is its owner's alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>

#include "backend_internal.h"

#define TMP_PREFIX ".tmp-"

struct local {
	char *root;
};

static struct local *
L(struct gfsb_backend *be)
{
	return be->impl;
}

/* Directory of an object type, relative to root; packs add "/xx". */
static void
obj_dir(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    char *buf, size_t len)
{
	if (type == GFSB_OBJ_CONFIG)
		snprintf(buf, len, "%s", L(be)->root);
	else if (type == GFSB_OBJ_PACK)
		snprintf(buf, len, "%s/data/%.2s", L(be)->root, name);
	else
		snprintf(buf, len, "%s/%s", L(be)->root,
		    gfsb_backend_type_name(type));
}

static void
obj_path(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    char *buf, size_t len)
{
	char dir[PATH_MAX];

	/* Roots are capped at open, so these never truncate. */
	obj_dir(be, type, name, dir, sizeof(dir));
	if (snprintf(buf, len, "%s/%s", dir, name) >= (int)len)
		buf[0] = '\0';
}

static gfsb_err
ioerr(struct gfsb_backend *be, const char *what, const char *path)
{
	int e = errno;

	return gfsb_ctx_seterr(be->ctx, e == ENOENT ? GFSB_ENOTFOUND :
	    GFSB_EIO, "%s %s: %s", what, path, strerror(e));
}

static int
fsync_dir(const char *dir)
{
	int fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

static gfsb_err
local_create(struct gfsb_backend *be)
{
	static const enum gfsb_obj dirs[] = { GFSB_OBJ_KEY, GFSB_OBJ_PACK,
		GFSB_OBJ_INDEX, GFSB_OBJ_SNAPSHOT, GFSB_OBJ_LOCK };
	char path[PATH_MAX];
	struct stat st;
	size_t i;
	int j;

	snprintf(path, sizeof(path), "%s/config", L(be)->root);
	if (lstat(path, &st) == 0)
		return gfsb_ctx_seterr(be->ctx, GFSB_EEXIST,
		    "a repository already exists at %s", L(be)->root);
	if (mkdir(L(be)->root, 0700) != 0 && errno != EEXIST)
		return ioerr(be, "cannot create", L(be)->root);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", L(be)->root,
		    gfsb_backend_type_name(dirs[i]));
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return ioerr(be, "cannot create", path);
	}
	for (j = 0; j < 256; j++) {
		snprintf(path, sizeof(path), "%s/data/%02x", L(be)->root, j);
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return ioerr(be, "cannot create", path);
	}
	return GFSB_OK;
}

/* ret is ignored: a directory has no locks (its owner can delete
 * anything). */
static gfsb_err
local_put(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    const uint8_t *p, size_t n, const struct gfsb_retention *ret)
{
	char dir[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX];
	uint8_t rnd[8];
	char rhex[17];
	gfsb_err e = GFSB_OK;
	int fd = -1;

	(void)ret;
	obj_dir(be, type, name, dir, sizeof(dir));
	obj_path(be, type, name, final, sizeof(final));
	gfsb_crypto_random(rnd, sizeof(rnd));
	gfsb_hex_encode(rnd, sizeof(rnd), rhex);
	if (snprintf(tmp, sizeof(tmp), "%s/" TMP_PREFIX "%s", dir, rhex) >=
	    (int)sizeof(tmp))
		return gfsb_ctx_seterr(be->ctx, GFSB_EINVAL, "path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && type != GFSB_OBJ_CONFIG) {
		/* A repository copied without its empty directories (git,
		 * rclone from S3, some sync tools): data/xx, locks/, and the
		 * rest are made again, one level, below a root that exists. */
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return ioerr(be, "cannot create", dir);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return ioerr(be, "cannot create", tmp);
	if (gfsb_sys_write_full(fd, p, n) != 0) {
		e = ioerr(be, "cannot write", tmp);
		goto fail;
	}
	if (fsync(fd) != 0) {
		e = ioerr(be, "cannot sync", tmp);
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		e = ioerr(be, "cannot write", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, final) != 0) {
		e = ioerr(be, "cannot rename into", final);
		goto fail;
	}
	if (fsync_dir(dir) != 0)
		return ioerr(be, "cannot sync directory", dir);
	return GFSB_OK;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return e;
}

static gfsb_err
local_get(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    size_t max, struct gfsb_buf *out)
{
	char path[PATH_MAX];
	struct stat st;
	gfsb_err e = GFSB_OK;
	ssize_t r;
	int fd;

	obj_path(be, type, name, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ioerr(be, "cannot open", path);
	if (fstat(fd, &st) != 0) {
		e = ioerr(be, "cannot stat", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		e = be_too_large(be, type, name, max);
		goto out;
	}
	if ((e = gfsb_buf_reserve(out, (size_t)st.st_size)) != GFSB_OK)
		goto out;
	/* Shorter if it shrank under us: the hash check will tell. */
	if ((r = gfsb_sys_pread_full(fd, out->data + out->len,
	    (size_t)st.st_size, 0)) < 0) {
		e = ioerr(be, "cannot read", path);
		goto out;
	}
	out->len += (size_t)r;
out:
	close(fd);
	return e;
}

static gfsb_err
local_read(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    uint64_t off, uint8_t *dst, size_t n)
{
	char path[PATH_MAX];
	gfsb_err e = GFSB_OK;
	ssize_t r;
	int fd;

	obj_path(be, type, name, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return ioerr(be, "cannot open", path);
	if ((r = gfsb_sys_pread_full(fd, dst, n, off)) < 0)
		e = ioerr(be, "cannot read", path);
	else if ((size_t)r < n)
		e = gfsb_ctx_seterr(be->ctx, GFSB_ECORRUPT, "%s is truncated",
		    path);
	close(fd);
	return e;
}

static gfsb_err
list_dir(struct gfsb_backend *be, enum gfsb_obj type, const char *dir,
    be_list_fn *fn, void *cookie)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	gfsb_err e = GFSB_OK;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return GFSB_OK;
		return ioerr(be, "cannot list", dir);
	}
	while ((de = readdir(d)) != NULL) {
		if (!gfsb_backend_name_ok(type, de->d_name))
			continue; /* ., .., temporary files, strangers */
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if ((e = fn(cookie, de->d_name, (uint64_t)st.st_size,
		    (int64_t)st.st_mtime)) != GFSB_OK)
			break;
	}
	closedir(d);
	return e;
}

static gfsb_err
local_list(struct gfsb_backend *be, enum gfsb_obj type, be_list_fn *fn,
    void *cookie)
{
	char dir[PATH_MAX];
	struct stat st;
	gfsb_err e;
	int i;

	if (type == GFSB_OBJ_CONFIG) {
		snprintf(dir, sizeof(dir), "%s/config", L(be)->root);
		if (stat(dir, &st) != 0)
			return GFSB_OK;
		return fn(cookie, "config", (uint64_t)st.st_size,
		    (int64_t)st.st_mtime);
	}
	if (type != GFSB_OBJ_PACK) {
		obj_dir(be, type, "", dir, sizeof(dir));
		return list_dir(be, type, dir, fn, cookie);
	}
	for (i = 0; i < 256; i++) {
		snprintf(dir, sizeof(dir), "%s/data/%02x", L(be)->root, i);
		if ((e = list_dir(be, type, dir, fn, cookie)) != GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

static gfsb_err
local_remove(struct gfsb_backend *be, enum gfsb_obj type, const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX];

	obj_dir(be, type, name, dir, sizeof(dir));
	obj_path(be, type, name, path, sizeof(path));
	if (unlink(path) != 0)
		return ioerr(be, "cannot remove", path);
	if (fsync_dir(dir) != 0)
		return ioerr(be, "cannot sync directory", dir);
	return GFSB_OK;
}

static gfsb_err
local_stat(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    uint64_t *size)
{
	char path[PATH_MAX];
	struct stat st;

	obj_path(be, type, name, path, sizeof(path));
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return GFSB_ENOTFOUND;
		return ioerr(be, "cannot stat", path);
	}
	*size = (uint64_t)st.st_size;
	return GFSB_OK;
}

/* Temporary files of writes that never reached their rename, last
 * written before `before`. */
static gfsb_err
clean_dir(struct gfsb_backend *be, const char *dir, int64_t before,
    uint64_t *removed)
{
	struct dirent *d;
	struct stat st;
	DIR *dh;
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) < 0)
		return errno == ENOENT ? GFSB_OK : ioerr(be, "cannot open",
		    dir);
	if ((dh = fdopendir(fd)) == NULL) {
		close(fd);
		return ioerr(be, "cannot open", dir);
	}
	while ((d = readdir(dh)) != NULL)
		if (strncmp(d->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0 &&
		    fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (int64_t)st.st_mtime < before &&
		    unlinkat(fd, d->d_name, 0) == 0)
			(*removed)++;
	closedir(dh);
	return GFSB_OK;
}

static gfsb_err
local_cleanup(struct gfsb_backend *be, int64_t before, uint64_t *removed)
{
	static const enum gfsb_obj types[] = { GFSB_OBJ_CONFIG, GFSB_OBJ_KEY,
		GFSB_OBJ_INDEX, GFSB_OBJ_SNAPSHOT, GFSB_OBJ_LOCK };
	char dir[PATH_MAX];
	size_t i;
	gfsb_err e;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		obj_dir(be, types[i], "", dir, sizeof(dir));
		if ((e = clean_dir(be, dir, before, removed)) != GFSB_OK)
			return e;
	}
	for (i = 0; i < 256; i++) {
		snprintf(dir, sizeof(dir), "%s/data/%02zx", L(be)->root, i);
		if ((e = clean_dir(be, dir, before, removed)) != GFSB_OK)
			return e;
	}
	return GFSB_OK;
}

static void
local_close(struct gfsb_backend *be)
{
	struct local *l = L(be);

	if (l == NULL)
		return;
	free(l->root);
	free(l);
}

static const struct gfsb_backend_ops local_ops = {
	.create = local_create,
	.put = local_put,
	.get = local_get,
	.read = local_read,
	.list = local_list,
	.remove = local_remove,
	.stat = local_stat,
	.cleanup = local_cleanup,
	.close = local_close,
};

gfsb_err
gfsb_backend_local_open(struct gfsb_ctx *ctx, const char *path,
    struct gfsb_backend **out)
{
	struct gfsb_backend *be;
	struct local *l;
	char cwd[PATH_MAX], abspath[PATH_MAX];
	size_t n;

	if (strlen(path) >= PATH_MAX - 100)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "repository path is too long");
	if ((be = calloc(1, sizeof(*be))) == NULL)
		return GFSB_ENOMEM;
	/* Absolute, so that a restore's chdir() into its target does not
	 * move the repository. */
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL &&
	    snprintf(abspath, sizeof(abspath), "%s/%s", cwd, path) <
	    (int)sizeof(abspath))
		path = abspath;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (l->root = strdup(path)) == NULL ||
	    (be->location = strdup(path)) == NULL) {
		if (l != NULL)
			free(l->root);
		free(l);
		free(be);
		return GFSB_ENOMEM;
	}
	/* "/srv/repo/" and "/srv/repo" are the same repository. */
	n = strlen(l->root);
	while (n > 1 && l->root[n - 1] == '/')
		l->root[--n] = '\0';
	be->ops = &local_ops;
	be->ctx = ctx;
	be->impl = l;
	gfsb_backend_base_init(be);
	*out = be;
	return GFSB_OK;
}
