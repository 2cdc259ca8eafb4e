/*
 * The local cache of a remote repository: copies of its index files, its
 * snapshots and the packs that hold trees, so that listing snapshots, an
 * incremental backup and browsing a snapshot do not download metadata
 * again.  Layout: DIR/<repo id>/{index,snapshots,packs}/<name>, DIR
 * marked with a CACHEDIR.TAG so that backup tools skip it.
 *
 * The cache holds the repository's own sealed objects, byte for byte:
 * nothing in it is plaintext.  Every object is named by its SHA-256, so a
 * cached copy is checked against its name whenever it is used, and one
 * that fails (a torn write, a bad disk) is deleted and fetched again.
 * Copies of objects the repository no longer lists are deleted when the
 * listing is next read.  The cache is best effort: any failure in it is
 * a warning (once) and the repository is read directly.  A read-only
 * view of the past is never cached: the cache of a repository id mirrors
 * its present listing, which the past's would evict.
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

#include "repo_internal.h"

struct repo_cache {
	int dirfd;		/* DIR/<repo id> */
	char path[PATH_MAX];	/* for messages */
	int warned;
	pthread_mutex_t fetch;	/* one pack download at a time */
};

static const char *const subdir[] = { "index", "snapshots", "packs" };

static const char cachedir_tag[] =
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by gfsbackup.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n";

static int
sub_of(enum gfsb_obj type)
{
	switch (type) {
	case GFSB_OBJ_INDEX:
		return 0;
	case GFSB_OBJ_SNAPSHOT:
		return 1;
	case GFSB_OBJ_PACK:
		return 2;
	default:
		return -1;
	}
}

static void
cache_warn(struct gfsb_repo *r, const char *what, int err)
{
	struct repo_cache *c = r->cache;

	if (c->warned++)
		return;
	gfsb_ctx_log(r->ctx, GFSB_LOG_WARN, "cache %s: %s: %s (reading the "
	    "repository directly)", c->path, what, strerror(err));
}

/* The default base: $GFSBACKUP_CACHE_DIR, $XDG_CACHE_HOME/gfsbackup or
 * $HOME/.cache/gfsbackup. */
static int
default_base(char *out, size_t len)
{
	const char *v;
	int n;

	if ((v = getenv("GFSBACKUP_CACHE_DIR")) != NULL && *v == '/')
		n = snprintf(out, len, "%s", v);
	else if ((v = getenv("XDG_CACHE_HOME")) != NULL && *v == '/')
		n = snprintf(out, len, "%s/gfsbackup", v);
	else if ((v = getenv("HOME")) != NULL && *v == '/')
		n = snprintf(out, len, "%s/.cache/gfsbackup", v);
	else
		return -1;
	return n > 0 && (size_t)n < len ? 0 : -1;
}

gfsb_err
gfsb_repo_set_cache(struct gfsb_repo *r, const char *dir)
{
	struct repo_cache *c;
	char base[PATH_MAX], tag[PATH_MAX + 16];
	size_t i;
	int fd, err;

	repo_cache_close(r);
	/* A view of the past is read directly: see repo.h. */
	if (dir == NULL || gfsb_backend_as_of(r->be) != 0)
		return GFSB_OK;
	if (*dir == '\0' ? default_base(base, sizeof(base)) != 0 :
	    snprintf(base, sizeof(base), "%s", dir) >= (int)sizeof(base))
		return GFSB_OK; /* nowhere to put it: uncached */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return GFSB_ENOMEM;
	c->dirfd = -1;
	pthread_mutex_init(&c->fetch, NULL);
	r->cache = c;
	if (snprintf(c->path, sizeof(c->path), "%s/%s", base, r->id) >=
	    (int)sizeof(c->path)) {
		cache_warn(r, "path", ENAMETOOLONG);
		repo_cache_close(r);
		return GFSB_OK;
	}
	if ((err = gfsb_sys_mkdirs(base)) != 0) {
		cache_warn(r, "cannot create it", err);
		repo_cache_close(r);
		return GFSB_OK;
	}
	snprintf(tag, sizeof(tag), "%s/CACHEDIR.TAG", base);
	if ((fd = open(tag, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >=
	    0) {
		if (write(fd, cachedir_tag, sizeof(cachedir_tag) - 1) < 0)
			(void)0; /* the tag is a courtesy */
		close(fd);
	}
	if ((mkdir(c->path, 0700) != 0 && errno != EEXIST) ||
	    (c->dirfd = open(c->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) < 0) {
		cache_warn(r, "cannot open it", errno);
		repo_cache_close(r);
		return GFSB_OK;
	}
	for (i = 0; i < sizeof(subdir) / sizeof(subdir[0]); i++)
		if (mkdirat(c->dirfd, subdir[i], 0700) != 0 &&
		    errno != EEXIST) {
			cache_warn(r, "cannot create its directories", errno);
			repo_cache_close(r);
			return GFSB_OK;
		}
	return GFSB_OK;
}

const char *
gfsb_repo_cache_path(const struct gfsb_repo *r)
{
	return r->cache != NULL ? r->cache->path : NULL;
}

void
repo_cache_close(struct gfsb_repo *r)
{
	struct repo_cache *c = r->cache;

	if (c == NULL)
		return;
	if (c->dirfd >= 0)
		close(c->dirfd);
	pthread_mutex_destroy(&c->fetch);
	free(c);
	r->cache = NULL;
}

static int
entry_path(enum gfsb_obj type, const char *name, char *out, size_t len)
{
	int s = sub_of(type);

	if (s < 0 || strlen(name) != GFSB_ID_HEX - 1)
		return -1;
	return snprintf(out, len, "%s/%s", subdir[s], name) < (int)len ? 0 :
	    -1;
}

/* Is p[0..n) the object `name`? */
static int
matches(const uint8_t *p, size_t n, const char *name)
{
	char hex[GFSB_ID_HEX];

	gfsb_crypto_sha256_hex(p, n, hex);
	return strcmp(hex, name) == 0;
}

static int
open_entry(const struct repo_cache *c, const char *rel)
{
	return openat(c->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

gfsb_err
repo_cache_get(struct gfsb_repo *r, enum gfsb_obj type, const char *name,
    size_t maxlen, struct gfsb_buf *out)
{
	struct repo_cache *c = r->cache;
	char rel[GFSB_ID_HEX + 16];
	struct stat st;
	ssize_t got;
	int fd;

	if (c == NULL || entry_path(type, name, rel, sizeof(rel)) != 0)
		return GFSB_ENOTFOUND;
	if ((fd = open_entry(c, rel)) < 0)
		return GFSB_ENOTFOUND;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > maxlen) {
		close(fd);
		return GFSB_ENOTFOUND;
	}
	out->len = 0;
	if (gfsb_buf_reserve(out, (size_t)st.st_size) != GFSB_OK) {
		close(fd);
		return GFSB_ENOMEM;
	}
	got = gfsb_sys_pread_full(fd, out->data, (size_t)st.st_size, 0);
	close(fd);
	if (got != (ssize_t)st.st_size ||
	    !matches(out->data, (size_t)got, name)) {
		/* Damaged copy: drop it, the caller fetches the object. */
		unlinkat(c->dirfd, rel, 0);
		return GFSB_ENOTFOUND;
	}
	out->len = (size_t)got;
	return GFSB_OK;
}

void
repo_cache_put(struct gfsb_repo *r, enum gfsb_obj type, const char *name,
    const uint8_t *p, size_t n)
{
	struct repo_cache *c = r->cache;
	char rel[GFSB_ID_HEX + 16], tmp[GFSB_ID_HEX + 64];
	unsigned char rnd[8];
	int fd, err = 0;

	if (c == NULL || entry_path(type, name, rel, sizeof(rel)) != 0)
		return;
	gfsb_crypto_random(rnd, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), "%s.tmp-%02x%02x%02x%02x%02x%02x", rel,
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	if ((fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		cache_warn(r, "cannot write", errno);
		return;
	}
	if (gfsb_sys_write_full(fd, p, n) != 0)
		err = errno;
	if (close(fd) != 0 && err == 0)
		err = errno;
	if (err == 0 && renameat(c->dirfd, tmp, c->dirfd, rel) != 0)
		err = errno;
	if (err != 0) {
		unlinkat(c->dirfd, tmp, 0);
		cache_warn(r, "cannot write", err);
	}
}

void
repo_cache_remove(struct gfsb_repo *r, enum gfsb_obj type, const char *name)
{
	char rel[GFSB_ID_HEX + 16];

	if (r->cache != NULL && entry_path(type, name, rel, sizeof(rel)) == 0)
		unlinkat(r->cache->dirfd, rel, 0);
}

void
repo_cache_sweep(struct gfsb_repo *r, enum gfsb_obj type,
    int (*keep)(void *cookie, const char *name), void *cookie)
{
	struct repo_cache *c = r->cache;
	struct dirent *d;
	DIR *dir;
	int s = sub_of(type), fd;

	if (c == NULL || s < 0)
		return;
	if ((fd = openat(c->dirfd, subdir[s], O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW)) < 0)
		return;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		/* Temporary files of a writer that died: an hour is plenty. */
		if (strstr(d->d_name, ".tmp-") != NULL) {
			struct stat st;

			if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
			    0 && st.st_mtime + 3600 < time(NULL))
				unlinkat(fd, d->d_name, 0);
			continue;
		}
		if (strlen(d->d_name) != GFSB_ID_HEX - 1 ||
		    !keep(cookie, d->d_name))
			unlinkat(fd, d->d_name, 0);
	}
	closedir(dir);
}

/*
 * A range of a pack, from the cached copy; the first use of a pack
 * downloads it whole (and checks it against its name).  GFSB_ENOTFOUND
 * when the cache cannot serve it (the caller reads the repository).  A
 * download that failed for want of the storage (not a missing or damaged
 * pack) returns that error: reading the repository again would only
 * repeat every retry.
 */
gfsb_err
repo_cache_pack_read(struct gfsb_repo *r, const char *name, uint64_t off,
    uint8_t *buf, size_t len)
{
	struct repo_cache *c = r->cache;
	char rel[GFSB_ID_HEX + 16];
	struct gfsb_buf whole;
	ssize_t got;
	gfsb_err e;
	int fd;

	if (c == NULL || entry_path(GFSB_OBJ_PACK, name, rel, sizeof(rel)) !=
	    0)
		return GFSB_ENOTFOUND;
	if ((fd = open_entry(c, rel)) < 0) {
		pthread_mutex_lock(&c->fetch);
		/* Another thread may have fetched it meanwhile. */
		if ((fd = open_entry(c, rel)) < 0) {
			gfsb_buf_init(&whole);
			e = gfsb_backend_get(r->be, GFSB_OBJ_PACK, name,
			    &whole);
			if (e == GFSB_OK && matches(whole.data, whole.len,
			    name))
				repo_cache_put(r, GFSB_OBJ_PACK, name,
				    whole.data, whole.len);
			else if (e == GFSB_OK || gfsb_err_is_damage(e))
				gfsb_ctx_clearerr(r->ctx);
			gfsb_buf_fini(&whole);
			if (e != GFSB_OK && !gfsb_err_is_damage(e)) {
				pthread_mutex_unlock(&c->fetch);
				return e;
			}
			fd = open_entry(c, rel);
		}
		pthread_mutex_unlock(&c->fetch);
		if (fd < 0)
			return GFSB_ENOTFOUND;
	}
	got = gfsb_sys_pread_full(fd, buf, len, off);
	close(fd);
	/* A short copy is damaged: drop it.  (The blob's MAC catches any
	 * other damage; the caller then reads the repository.) */
	if (got != (ssize_t)len) {
		unlinkat(c->dirfd, rel, 0);
		return GFSB_ENOTFOUND;
	}
	return GFSB_OK;
}
