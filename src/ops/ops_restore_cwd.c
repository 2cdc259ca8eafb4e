/*
 * A restore file writer's own working directory.
 *
 * libarchive's disk writer takes a path, and with
 * ARCHIVE_EXTRACT_SECURE_SYMLINKS it checks every component of it for a
 * symlink before each file: an open, a stat and a close per component,
 * about thirty system calls for a file five directories down, most of the
 * kernel time of a restore of many small files.  A file writer thread
 * instead gets a working directory of its own (unshare(CLONE_FS), Linux),
 * enters the file's directory, reached one component at a time with
 * O_NOFOLLOW from the target, and hands libarchive the bare name.  The
 * check still runs, on one component; and the directory is the one the
 * walk reached, whatever is renamed meanwhile, which is stronger than a
 * check of the path followed by an open of the path.
 *
 * Consecutive files of one directory (the usual order) reuse it; a
 * deeper directory is reached from the current one.  Where the thread
 * cannot have its own directory, or the walk fails (a directory that
 * could not be made: libarchive then says why), the path is used whole
 * from the target, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops_internal.h"

#define CWD_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

void
rs_cwd_init(struct rs_cwd *c)
{
	memset(c, 0, sizeof(*c));
	c->target = c->fd = -1;
#ifdef CLONE_FS
	if (unshare(CLONE_FS) != 0)
		return;
	if ((c->target = open(".", CWD_FLAGS)) < 0)
		return;
	c->own = 1;
#endif
}

void
rs_cwd_fini(struct rs_cwd *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->target >= 0)
		close(c->target);
	free(c->dir);
	memset(c, 0, sizeof(*c));
	c->target = c->fd = -1;
}

/* Back to the target, where whole paths work. */
static void
to_target(struct rs_cwd *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->dirlen = 0;
	if (fchdir(c->target) != 0)
		c->own = 0; /* cannot happen with a valid fd; be safe */
}

/* Open dir[from..len) below fd `at` one component at a time; -1 if any
 * component is missing, not a directory or a symlink. */
static int
walk(int at, const char *dir, size_t from, size_t len)
{
	char name[NAME_MAX + 1];
	size_t i = from, j;
	int fd = at, next;

	while (i < len) {
		for (j = i; j < len && dir[j] != '/'; j++)
			;
		if (j == i || j - i > NAME_MAX ||
		    (j - i == 2 && dir[i] == '.' && dir[i + 1] == '.'))
			break;
		memcpy(name, dir + i, j - i);
		name[j - i] = '\0';
		next = openat(fd, name, CWD_FLAGS);
		if (fd != at)
			close(fd);
		if ((fd = next) < 0)
			return -1;
		i = j + 1;
	}
	if (i < len) {
		if (fd != at)
			close(fd);
		return -1;
	}
	return fd == at ? -1 : fd;
}

const char *
rs_cwd_enter(struct rs_cwd *c, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len, from = 0;
	char *dir;
	int at, fd;

	if (!c->own)
		return path;
	if (slash == NULL) {
		if (c->fd >= 0)
			to_target(c);
		return path;
	}
	len = (size_t)(slash - path);
	if (c->fd >= 0 && len == c->dirlen && memcmp(path, c->dir, len) == 0)
		return slash + 1;
	at = c->target;
	if (c->fd >= 0 && len > c->dirlen && path[c->dirlen] == '/' &&
	    memcmp(path, c->dir, c->dirlen) == 0) {
		at = c->fd;	/* below where we are */
		from = c->dirlen + 1;
	}
	if ((fd = walk(at, path, from, len)) < 0 || fchdir(fd) != 0 ||
	    (len >= c->dircap && (dir = realloc(c->dir, len + 64)) == NULL)) {
		if (fd >= 0)
			close(fd);
		to_target(c);
		return path;
	}
	if (len >= c->dircap) {
		c->dir = dir;
		c->dircap = len + 64;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	memcpy(c->dir, path, len);
	c->dirlen = len;
	return slash + 1;
}
