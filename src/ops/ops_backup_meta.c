/*
 * The backup producer, metadata: a node from what lstat says, owners' and
 * groups' names (cached), extended attributes and ACLs read from the open
 * descriptor, sorted, and within their caps.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gfsbackup/chunker.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define XATTR_LIST_CAP (64U << 10)

static char *
cached_name(struct namecache *c, uint32_t id, int group)
{
	char buf[4096], *name = NULL;
	struct passwd pw, *pr = NULL;
	struct group gr, *gp = NULL;
	int i;

	for (i = 0; i < c->used; i++)
		if (c->id[i] == id)
			return c->name[i] ? strdup(c->name[i]) : NULL;
	if (group) {
		if (getgrgid_r(id, &gr, buf, sizeof(buf), &gp) == 0 &&
		    gp != NULL)
			name = strdup(gp->gr_name);
	} else {
		if (getpwuid_r(id, &pw, buf, sizeof(buf), &pr) == 0 &&
		    pr != NULL)
			name = strdup(pr->pw_name);
	}
	if (c->used < 64) {
		i = c->used++;
	} else {
		i = (int)(c->next++ % 64);
		free(c->name[i]);
	}
	c->id[i] = id;
	c->name[i] = name;
	return name ? strdup(name) : NULL;
}

static enum gfsb_node_kind
kind_of(mode_t m)
{
	if (S_ISREG(m))
		return GFSB_NODE_FILE;
	if (S_ISDIR(m))
		return GFSB_NODE_DIR;
	if (S_ISLNK(m))
		return GFSB_NODE_SYMLINK;
	if (S_ISFIFO(m))
		return GFSB_NODE_FIFO;
	if (S_ISCHR(m))
		return GFSB_NODE_CHARDEV;
	if (S_ISBLK(m))
		return GFSB_NODE_BLOCKDEV;
	return GFSB_NODE_SOCKET;
}

gfsb_err
bk_node_from_stat(struct bk *b, const char *name, const struct stat *st,
    struct gfsb_node *n)
{
	memset(n, 0, sizeof(*n));
	n->kind = kind_of(st->st_mode);
	if (name != NULL && (n->name = strdup(name)) == NULL)
		return GFSB_ENOMEM;
	n->mode = (uint32_t)st->st_mode;
	n->uid = (uint32_t)st->st_uid;
	n->gid = (uint32_t)st->st_gid;
	n->user = cached_name(&b->users, n->uid, 0);
	n->group = cached_name(&b->groups, n->gid, 1);
	n->mtime.sec = st->st_mtim.tv_sec;
	n->mtime.nsec = (int32_t)st->st_mtim.tv_nsec;
	n->ctime.sec = st->st_ctim.tv_sec;
	n->ctime.nsec = (int32_t)st->st_ctim.tv_nsec;
	n->inode = (uint64_t)st->st_ino;
	n->dev = (uint64_t)st->st_dev;
	if (n->kind == GFSB_NODE_CHARDEV || n->kind == GFSB_NODE_BLOCKDEV)
		n->rdev = (uint64_t)st->st_rdev;
	if (n->kind == GFSB_NODE_FILE) {
		n->size = (uint64_t)st->st_size;
		n->nlink = (uint32_t)st->st_nlink;
	}
	return GFSB_OK;
}

static int
xattrcmp(const void *a, const void *b)
{
	return strcmp(((const struct gfsb_xattr *)a)->name,
	    ((const struct gfsb_xattr *)b)->name);
}

/*
 * Read the extended attributes (and so the POSIX ACLs, which Linux keeps
 * in system.posix_acl_*) of an open file, or of `path` without following a
 * final symlink when fd < 0.  Problems are warnings: the content matters
 * more than a lost attribute.
 */
void
bk_read_xattrs(struct bk *b, int fd, const char *path, const char *shown,
    struct gfsb_xattr **out, size_t *nout)
{
	char *list = NULL, *p;
	ssize_t len, vlen;
	struct gfsb_xattr *v = NULL, *x;
	size_t n = 0, cap = 0;

	*out = NULL;
	*nout = 0;
	len = fd >= 0 ? flistxattr(fd, NULL, 0) : llistxattr(path, NULL, 0);
	if (len <= 0) {
		if (len < 0 && errno != ENOTSUP && errno != ENOSYS &&
		    errno != ENOENT)
			bk_warn(b, "%s: cannot list extended attributes: %s",
			    shown, strerror(errno));
		return;
	}
	if ((size_t)len > XATTR_LIST_CAP || (list = malloc((size_t)len)) ==
	    NULL)
		goto fail;
	len = fd >= 0 ? flistxattr(fd, list, (size_t)len) :
	    llistxattr(path, list, (size_t)len);
	if (len < 0)
		goto fail;
	for (p = list; p < list + len; p += strlen(p) + 1) {
		if (*p == '\0')
			continue;
		vlen = fd >= 0 ? fgetxattr(fd, p, NULL, 0) :
		    lgetxattr(path, p, NULL, 0);
		if (vlen < 0 || (size_t)vlen > GFSB_TREE_MAX_XATTR_VALUE) {
			bk_warn(b, "%s: cannot read extended attribute %s",
			    shown, p);
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 4;
			if ((x = realloc(v, cap * sizeof(*v))) == NULL)
				goto fail;
			v = x;
		}
		x = &v[n];
		memset(x, 0, sizeof(*x));
		if ((x->name = strdup(p)) == NULL ||
		    (x->value = malloc(vlen ? (size_t)vlen : 1)) == NULL) {
			free(x->name);
			goto fail;
		}
		vlen = fd >= 0 ? fgetxattr(fd, p, x->value, (size_t)vlen) :
		    lgetxattr(path, p, x->value, (size_t)vlen);
		if (vlen < 0) {
			free(x->name);
			free(x->value);
			bk_warn(b, "%s: extended attribute %s changed while "
			    "reading", shown, p);
			continue;
		}
		x->len = (uint32_t)vlen;
		n++;
	}
	free(list);
	if (n > 1)
		qsort(v, n, sizeof(*v), xattrcmp);
	*out = v;
	*nout = n;
	return;
fail:
	bk_warn(b, "%s: cannot read extended attributes", shown);
	free(list);
	bk_xattrs_free(v, n);
}

/* /proc path naming `name` in the directory open as dirfd. */
void
bk_proc_path(char *buf, size_t len, int dirfd, const char *name)
{
	snprintf(buf, len, "/proc/self/fd/%d/%s", dirfd, name);
}

