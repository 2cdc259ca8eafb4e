/*
 * Restore, in place: into a directory that holds files already (after an
 * attack, the server's own tree).  The planner asks, for each file, if
 * the one there is kept (--overwrite if-changed, if-newer, never); a file
 * not kept is replaced by the writers (libarchive replaces the entry
 * itself and never writes through a symlink).  With --delete the planner
 * also notes, in each directory restored whole, what the snapshot does
 * not hold; once everything is restored without error or damage, those
 * are removed.  Nothing is removed through a symlink, below the target's
 * mount of another file system, or that an exclude covers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ops_restore.h"

int
rs_keep_existing(struct rs *s, const struct gfsb_node *n, const char *rel)
{
	enum gfsb_restore_overwrite mode = s->o->overwrite;
	struct stat st;

	if (mode == GFSB_OVERWRITE_REFUSE || mode == GFSB_OVERWRITE_ALWAYS ||
	    n->kind == GFSB_NODE_DIR ||
	    fstatat(AT_FDCWD, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	switch (mode) {
	case GFSB_OVERWRITE_NEVER:
		return 1;
	case GFSB_OVERWRITE_IF_NEWER:
		return st.st_mtim.tv_sec > n->mtime.sec ||
		    (st.st_mtim.tv_sec == n->mtime.sec &&
		    st.st_mtim.tv_nsec >= (long)n->mtime.nsec);
	case GFSB_OVERWRITE_IF_CHANGED:
		return n->kind == GFSB_NODE_FILE && S_ISREG(st.st_mode) &&
		    (uint64_t)st.st_size == n->size &&
		    st.st_mtim.tv_sec == n->mtime.sec &&
		    st.st_mtim.tv_nsec == (long)n->mtime.nsec;
	default:
		return 0;
	}
}

/* Open directory rel ("" for the target) below the working directory
 * (the target), never through a symlink: -1 with errno otherwise. */
static int
open_beneath(const char *rel)
{
	char buf[PATH_MAX], *name, *save = NULL;
	int fd, next;

	if (strlen(rel) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, rel);
	if ((fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (name = strtok_r(buf, "/", &save); name != NULL;
	    name = strtok_r(NULL, "/", &save)) {
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -1;
		fd = next;
	}
	return fd;
}

/* Does tree t (names in strictly ascending bytewise order) hold name? */
static int
in_tree(const struct gfsb_tree *t, const char *name)
{
	size_t lo = 0, hi = t->n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, t->nodes[mid].name)) == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* "a" + "/" + "b" (just b when a is ""); NULL when out of memory. */
static char *
join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);

	if (p == NULL)
		return NULL;
	if (la == 0) {
		memcpy(p, b, lb + 1);
	} else {
		memcpy(p, a, la);
		p[la] = '/';
		memcpy(p + la + 1, b, lb + 1);
	}
	return p;
}

static gfsb_err
note(struct rs *s, char *path)
{
	char **grown;
	size_t cap;

	if (path == NULL)
		return GFSB_ENOMEM;
	if (s->extras.n == s->extras.cap) {
		cap = s->extras.cap ? 2 * s->extras.cap : 64;
		if ((grown = realloc(s->extras.v, cap * sizeof(*grown))) ==
		    NULL) {
			free(path);
			return GFSB_ENOMEM;
		}
		s->extras.v = grown;
		s->extras.cap = cap;
	}
	s->extras.v[s->extras.n++] = path;
	return GFSB_OK;
}

gfsb_err
rs_note_extras(struct rs *s, const struct gfsb_tree *t, const char *rel,
    const char *abs)
{
	struct dirent *de;
	char *path;
	gfsb_err e = GFSB_OK;
	DIR *d;
	int fd;

	/* Not there yet, or reached through a symlink: nothing of ours. */
	if ((fd = open_beneath(rel)) < 0)
		return GFSB_OK;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return GFSB_OK;
	}
	while (e == GFSB_OK && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || in_tree(t, de->d_name))
			continue;
		if ((path = join(abs, de->d_name)) == NULL) {
			e = GFSB_ENOMEM;
			break;
		}
		/* What an exclude leaves out was not restored: not ours. */
		if (gfsb_ops_patterns_match(s->excl, path)) {
			free(path);
			continue;
		}
		free(path);
		e = note(s, join(rel, de->d_name));
	}
	closedir(d);
	return e;
}

/* Remove name in directory dfd, a directory with what it holds; never
 * through a symlink, never onto device dev's neighbours (a mount point
 * is left).  0, or -1 with errno (the first failure). */
static int
remove_at(int dfd, const char *name, dev_t dev, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, rc = 0, err = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0);
	if (st.st_dev != dev) {
		errno = EXDEV;
		return -1;
	}
	if (depth > RS_MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (remove_at(fd, de->d_name, dev, depth + 1) != 0 &&
		    rc == 0) {
			rc = -1;
			err = errno;
		}
	}
	closedir(d);
	if (rc != 0) {
		errno = err;
		return -1;
	}
	return unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Remove one noted path (relative to the target). */
static void
delete_one(struct rs *s, const char *path)
{
	char dir[PATH_MAX], sbuf[2 * SHOWN_PART + 4];
	const char *slash = strrchr(path, '/'), *name;
	struct stat st;
	int dfd;

	if (slash != NULL && (size_t)(slash - path) < sizeof(dir)) {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		name = slash + 1;
	} else {
		dir[0] = '\0';
		name = path;
	}
	if ((dfd = open_beneath(dir)) < 0 || fstat(dfd, &st) != 0 ||
	    remove_at(dfd, name, st.st_dev, 0) != 0) {
		gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR, "%s: cannot remove it: %s",
		    rs_shown(path, sbuf), errno == EXDEV ? "another file "
		    "system is mounted there" : strerror(errno));
		s->res->not_deleted++;
	} else {
		s->res->deleted++;
	}
	if (dfd >= 0)
		close(dfd);
}

/* The directories written get their times again. */
static void
rs_dir_times(struct rs *s)
{
	char sbuf[2 * SHOWN_PART + 4];
	struct timespec ts[2];
	size_t i;
	int fd;

	for (i = s->dirs.n; i-- > 0;) {
		ts[0].tv_sec = ts[1].tv_sec = (time_t)s->dirs.v[i].mtime.sec;
		ts[0].tv_nsec = ts[1].tv_nsec = (long)s->dirs.v[i].mtime.nsec;
		if ((fd = open_beneath(s->dirs.v[i].path)) >= 0 &&
		    futimens(fd, ts) == 0) {
			close(fd);
			continue;
		}
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set the "
		    "times: %s", rs_shown(s->dirs.v[i].path, sbuf),
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		s->res->warnings++;
	}
}

gfsb_err
rs_inplace_end(struct rs *s, gfsb_err e)
{
	size_t i;

	/* Only after a whole restore: one that failed removes nothing. */
	if (e == GFSB_OK && s->res->damaged_files == 0)
		for (i = 0; i < s->extras.n; i++)
			delete_one(s, s->extras.v[i]);
	else if (s->extras.n > 0)
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "--delete: nothing "
		    "removed, as the restore did not complete");
	if (e == GFSB_OK || e == GFSB_ECORRUPT)
		rs_dir_times(s);
	if (e == GFSB_OK && s->res->not_deleted > 0)
		e = gfsb_ctx_seterr(s->ctx, GFSB_EIO, "--delete: %llu entries "
		    "could not be removed (named above)",
		    (unsigned long long)s->res->not_deleted);
	return e;
}

void
rs_extras_free(struct rs *s)
{
	size_t i;

	for (i = 0; i < s->extras.n; i++)
		free(s->extras.v[i]);
	free(s->extras.v);
	memset(&s->extras, 0, sizeof(s->extras));
	for (i = 0; i < s->dirs.n; i++)
		free(s->dirs.v[i].path);
	free(s->dirs.v);
	memset(&s->dirs, 0, sizeof(s->dirs));
}

gfsb_err
rs_note_dir(struct rs *s, const struct ritem *it)
{
	struct rs_dir *grown;
	size_t cap;

	if (s->dirs.n == s->dirs.cap) {
		cap = s->dirs.cap ? 2 * s->dirs.cap : 64;
		if ((grown = realloc(s->dirs.v, cap * sizeof(*grown))) == NULL)
			return GFSB_ENOMEM;
		s->dirs.v = grown;
		s->dirs.cap = cap;
	}
	if ((s->dirs.v[s->dirs.n].path = strdup(it->path)) == NULL)
		return GFSB_ENOMEM;
	s->dirs.v[s->dirs.n++].mtime = it->node.mtime;
	return GFSB_OK;
}

