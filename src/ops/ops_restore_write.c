/*
 * Restore, writing: the ordered writer takes items in the snapshot's
 * order (directories, links and the rest through libarchive's disk
 * writer or its pax writer); regular files go to the file writers, which
 * write them directly where they can (write_file_direct) or through
 * libarchive.  Each blob is waited for, written, and released to the
 * budget and the pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <archive_entry.h>

#include "ops_restore.h"

/* Linux POSIX ACL xattr format: u32 version 2, then {u16 tag, u16 perm,
 * u32 id} entries, little-endian. */
#define ACL_XATTR_ACCESS "system.posix_acl_access"
#define ACL_XATTR_DEFAULT "system.posix_acl_default"

static int
acl_tag(unsigned tag)
{
	switch (tag) {
	case 0x01: return ARCHIVE_ENTRY_ACL_USER_OBJ;
	case 0x02: return ARCHIVE_ENTRY_ACL_USER;
	case 0x04: return ARCHIVE_ENTRY_ACL_GROUP_OBJ;
	case 0x08: return ARCHIVE_ENTRY_ACL_GROUP;
	case 0x10: return ARCHIVE_ENTRY_ACL_MASK;
	case 0x20: return ARCHIVE_ENTRY_ACL_OTHER;
	}
	return -1;
}

/* Turn a posix_acl xattr into libarchive ACL entries; 0 if malformed. */
static int
add_acl(struct archive_entry *ae, const struct gfsb_xattr *x, int type)
{
	struct gfsb_rd rd;
	unsigned tag, perm;
	uint32_t id;
	int t;

	gfsb_rd_init(&rd, x->value, x->len);
	if (x->len < 4 || (x->len - 4) % 8 != 0 || gfsb_rd_u32(&rd) != 2)
		return 0;
	while (gfsb_rd_left(&rd) >= 8) {
		tag = gfsb_rd_u16(&rd);
		perm = gfsb_rd_u16(&rd) & 7;
		id = gfsb_rd_u32(&rd);
		if ((t = acl_tag(tag)) < 0)
			return 0;
		archive_entry_acl_add_entry(ae, type, (int)perm, t,
		    (t == ARCHIVE_ENTRY_ACL_USER || t == ARCHIVE_ENTRY_ACL_GROUP)
		    ? (int)id : -1, NULL);
	}
	return 1;
}

static unsigned
ae_type(enum gfsb_node_kind k)
{
	switch (k) {
	case GFSB_NODE_FILE: return AE_IFREG;
	case GFSB_NODE_DIR: return AE_IFDIR;
	case GFSB_NODE_SYMLINK: return AE_IFLNK;
	case GFSB_NODE_FIFO: return AE_IFIFO;
	case GFSB_NODE_CHARDEV: return AE_IFCHR;
	case GFSB_NODE_BLOCKDEV: return AE_IFBLK;
	case GFSB_NODE_SOCKET: return AE_IFSOCK;
	}
	return AE_IFREG;
}

static void
fill_entry(struct rs *s, struct archive_entry *ae, const struct ritem *it,
    const char *name, int tar)
{
	const struct gfsb_node *n = &it->node;
	uint64_t off = 0;
	size_t i;

	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, ae_type(n->kind));
	archive_entry_set_perm(ae, n->mode & 07777);
	archive_entry_set_uid(ae, n->uid);
	archive_entry_set_gid(ae, n->gid);
	if (n->user != NULL)
		archive_entry_set_uname(ae, n->user);
	if (n->group != NULL)
		archive_entry_set_gname(ae, n->group);
	archive_entry_set_mtime(ae, n->mtime.sec, n->mtime.nsec);
	archive_entry_set_atime(ae, n->mtime.sec, n->mtime.nsec);
	if (it->hardlink != NULL) {
		archive_entry_set_hardlink(ae, it->hardlink);
		archive_entry_set_size(ae, 0);
		return;
	}
	if (n->kind == GFSB_NODE_SYMLINK)
		archive_entry_set_symlink(ae, n->target);
	if (n->kind == GFSB_NODE_CHARDEV || n->kind == GFSB_NODE_BLOCKDEV)
		archive_entry_set_rdev(ae, (dev_t)n->rdev);
	if (n->kind == GFSB_NODE_FILE) {
		archive_entry_set_size(ae, (la_int64_t)n->size);
		/* A pax archive records holes as a sparse map of the data. */
		if (tar) {
			int holes = 0;

			for (i = 0; i < n->nextents; i++)
				holes |= n->extents[i].hole;
			for (i = 0; holes && i < n->nextents; i++) {
				if (!n->extents[i].hole)
					archive_entry_sparse_add_entry(ae,
					    (la_int64_t)off,
					    (la_int64_t)n->extents[i].len);
				off += n->extents[i].len;
			}
		}
	}
	for (i = 0; i < n->nxattrs; i++) {
		const struct gfsb_xattr *x = &n->xattrs[i];

		if (strcmp(x->name, ACL_XATTR_ACCESS) == 0) {
			if (add_acl(ae, x, ARCHIVE_ENTRY_ACL_TYPE_ACCESS))
				continue;
		} else if (strcmp(x->name, ACL_XATTR_DEFAULT) == 0) {
			if (add_acl(ae, x, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT))
				continue;
		}
		archive_entry_xattr_add_entry(ae, x->name, x->value, x->len);
	}
	(void)s;
}

static const uint8_t zeros[1 << 20];

static gfsb_err
write_zeros(struct archive *a, uint64_t left)
{
	size_t k;

	while (left > 0) {
		k = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
		if (archive_write_data(a, zeros, k) < 0)
			return GFSB_EIO;
		left -= k;
	}
	return GFSB_OK;
}

/* What one item added to the result (writers run at once). */
static void
count_item(struct rs *s, const struct gfsb_node *n, uint64_t bytes,
    uint64_t warnings, int damaged)
{
	pthread_mutex_lock(&s->mu);
	if (n->kind == GFSB_NODE_DIR)
		s->res->dirs++;
	else if (n->kind == GFSB_NODE_FILE)
		s->res->files++;
	else
		s->res->others++;
	s->res->bytes += bytes;
	s->res->warnings += warnings;
	s->res->damaged_files += damaged;
	pthread_mutex_unlock(&s->mu);
}

/* Wait for a fetch to be done; 0 if the restore failed first. */
static int
fetch_wait(struct rs *s, struct fetch *f, pthread_cond_t *cv)
{
	int done;

	pthread_mutex_lock(&s->mu);
	f->waiter = cv;
	while (!f->done && s->err == GFSB_OK)
		pthread_cond_wait(cv, &s->mu);
	f->waiter = NULL;
	done = f->done;
	pthread_mutex_unlock(&s->mu);
	return done;
}

/* A fetch's bytes are written: out of the in-flight budget (the planner
 * may go on), its buffer back to the pool. */
static void
fetch_release(struct rs *s, struct fetch *f)
{
	pthread_mutex_lock(&s->mu);
	s->inflight -= f->len;
	/* The planner waits for half the budget: wake it only then. */
	if (s->space_wait && s->inflight <= s->limit / 2)
		pthread_cond_signal(&s->cv_space);
	pthread_mutex_unlock(&s->mu);
	gfsb_pool_put(s->bufs, f->buf.data, f->buf.cap);
	gfsb_buf_init(&f->buf);
}

/* Where a file's bytes go: libarchive (an archive, or its disk writer)
 * or, for the file writers' direct path, a file descriptor. */
struct sink {
	struct archive *a;
	int fd;			/* >= 0: pwrite here */
	int tar;
	pthread_cond_t *cv;	/* the writer's, to wait for fetches */
};

/* Write all of data at off; 0 or -1 with errno (fd) / libarchive's
 * error (a). */
static int
sink_write(const struct sink *k, const uint8_t *data, size_t len, uint64_t off)
{
	ssize_t w;

	if (k->fd < 0) {
		w = k->tar ? archive_write_data(k->a, data, len) :
		    archive_write_data_block(k->a, data, len, (la_int64_t)off);
		return w < 0 ? -1 : 0;
	}
	while (len > 0) {
		if ((w = pwrite(k->fd, data, len, (off_t)off)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		data += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static const char *
sink_error(const struct sink *k)
{
	return k->fd >= 0 ? strerror(errno) : archive_error_string(k->a);
}

/* What writing one item's data came to. */
struct wdone {
	uint64_t bytes, warnings, end; /* end: after the last byte written */
	int damaged, ok;
};

/* An item's extents, in order, to k: each blob waited for, written (a
 * damaged one is a hole on disk, zeros in an archive, and named) and
 * released.  Fatal errors are returned. */
static gfsb_err
write_extents(struct rs *s, const struct sink *k, struct ritem *it,
    struct wdone *d)
{
	const struct gfsb_node *n = &it->node;
	uint64_t off = 0;
	size_t i;
	char idhex[GFSB_ID_HEX], sbuf[2 * SHOWN_PART + 4];

	for (i = 0; it->hardlink == NULL && i < n->nextents; i++) {
		struct fetch *f = it->fx ? it->fx[i] : NULL;

		if (f == NULL) {
			/* A hole.  On disk: skip it.  libarchive's pax writer
			 * takes the whole logical stream and drops the bytes
			 * its sparse map calls holes, so feed it zeros. */
			if (k->tar && d->ok && write_zeros(k->a,
			    n->extents[i].len) != GFSB_OK)
				return GFSB_EIO;
			off += n->extents[i].len;
			continue;
		}
		if (!fetch_wait(s, f, k->cv))
			return s->err;
		if (f->err != GFSB_OK && f->err != GFSB_ECORRUPT &&
		    f->err != GFSB_ENOTFOUND) {
			/* Not damage: the repository cannot be read (network,
			 * credentials, disk, memory).  Stop, saying why. */
			return f->err;
		}
		if (f->err != GFSB_OK) {
			gfsb_hex_encode(f->id, GFSB_ID_LEN, idhex);
			if (!d->damaged)
				gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR,
				    "%s: damaged: blob %.16s (bytes %llu-%llu) "
				    "%s; restored with that range as a hole",
				    rs_shown(it->abspath, sbuf), idhex,
				    (unsigned long long)off,
				    (unsigned long long)(off + f->len),
				    f->err == GFSB_ENOTFOUND ?
				    "is missing from the index" :
				    "failed its integrity check");
			d->damaged = 1;
			/* In an archive the bytes must be there: zeros. */
			if (k->tar && d->ok && write_zeros(k->a, f->len) !=
			    GFSB_OK)
				return GFSB_EIO;
		} else if (d->ok) {
			if (sink_write(k, f->buf.data, f->buf.len, off) != 0) {
				d->ok = 0;
				d->warnings++;
				gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR,
				    "%s: cannot write: %s",
				    rs_shown(it->abspath, sbuf), sink_error(k));
				if (k->tar)
					return gfsb_ctx_seterr(s->ctx, GFSB_EIO,
					    "cannot write the archive: %s",
					    archive_error_string(k->a));
			} else {
				d->bytes += f->buf.len;
				d->end = off + f->buf.len;
			}
		}
		off += f->len;
		fetch_release(s, f);
	}
	return GFSB_OK;
}

/* Write one item's header and data, as `name` (it->path relative to the
 * writer's directory).  Fatal errors are returned. */
static gfsb_err
write_item(struct rs *s, struct archive *a, struct ritem *it,
    const char *name, int tar, pthread_cond_t *cv)
{
	struct archive_entry *ae;
	struct sink k = { a, -1, tar, cv };
	struct wdone d;
	int r, written = 0;
	char sbuf[2 * SHOWN_PART + 4];
	gfsb_err e = GFSB_OK;

	memset(&d, 0, sizeof(d));
	if ((ae = archive_entry_new()) == NULL)
		return GFSB_ENOMEM;
	fill_entry(s, ae, it, name, tar);
	r = archive_write_header(a, ae);
	if (r == ARCHIVE_FATAL) {
		e = gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: %s",
		    rs_shown(it->abspath, sbuf), archive_error_string(a));
		goto out;
	}
	d.ok = r >= ARCHIVE_WARN;
	written = 1;
	if (r != ARCHIVE_OK) {
		d.warnings++;
		gfsb_ctx_log(s->ctx, r == ARCHIVE_WARN ? GFSB_LOG_WARN :
		    GFSB_LOG_ERROR, "%s: %s", rs_shown(it->abspath, sbuf),
		    archive_error_string(a));
	}
	if ((e = write_extents(s, &k, it, &d)) != GFSB_OK)
		goto out;
	r = archive_write_finish_entry(a);
	if (r == ARCHIVE_FATAL) {
		e = gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: %s",
		    rs_shown(it->abspath, sbuf), archive_error_string(a));
	} else if (r != ARCHIVE_OK && d.ok) {
		d.warnings++;
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: %s",
		    rs_shown(it->abspath, sbuf), archive_error_string(a));
	}
out:
	archive_entry_free(ae);
	if (written)
		count_item(s, &it->node, d.bytes, d.warnings, d.damaged);
	return e;
}

static struct ritem *
next_item(struct rs *s)
{
	struct ritem *it;

	pthread_mutex_lock(&s->mu);
	while (s->iq_head == NULL && s->err == GFSB_OK)
		pthread_cond_wait(&s->cv_item, &s->mu);
	if ((it = s->iq_head) != NULL) {
		s->iq_head = it->next;
		if (s->iq_head == NULL)
			s->iq_tail = NULL;
		it->next = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	return it;
}

/* An item is written (or given up): free it, and its slot for the
 * planner.  After a failure its fetches may still be in the workers'
 * hands: it is kept until they have stopped. */
static void
item_done(struct rs *s, struct ritem *it, gfsb_err e)
{
	pthread_mutex_lock(&s->mu);
	if (--s->nitems == RS_MAX_ITEMS / 2 - 1)
		pthread_cond_broadcast(&s->cv_space);
	if (e != GFSB_OK) {
		it->next = s->dead;
		s->dead = it;
		it = NULL;
	}
	pthread_mutex_unlock(&s->mu);
	rs_item_free(it);
}

/* ---- file writers ---- */

/* Items a file writer may take: a regular file of its own (a hard link
 * waits for the file it links to, which the ordered writer makes). */
static int
for_file_writer(const struct ritem *it)
{
	return it->node.kind == GFSB_NODE_FILE && it->hardlink == NULL &&
	    it->node.nlink <= 1;
}

static void
file_queue(struct rs *s, struct ritem *it)
{
	pthread_mutex_lock(&s->mu);
	if (s->fq_items_tail != NULL)
		s->fq_items_tail->next = it;
	else
		s->fq_items = it;
	s->fq_items_tail = it;
	pthread_cond_signal(&s->cv_file);
	pthread_mutex_unlock(&s->mu);
}

/* The file writers' direct path.  libarchive's disk writer spends a dozen
 * system calls on a plain file (it saves and restores the umask, checks
 * the name for a symlink with an open, a stat and a close, and looks for
 * the descriptor's flags): a third of a restore's calls.  Where the
 * writer sits in the file's own directory (ops_restore_cwd.c) a plain new
 * file needs only openat(O_CREAT | O_EXCL | O_NOFOLLOW), its writes,
 * fchown, futimens and close: O_EXCL with O_NOFOLLOW neither follows nor
 * replaces anything, and the directory was reached without following a
 * symlink.  The rest (a name that exists, extended attributes, set-id
 * bits, a directory that could not be entered) goes through libarchive,
 * as before.  Returns 0 when it did not take the item (nothing was
 * changed), 1 when it did; fatal errors in *ep. */
static int
write_file_direct(struct rs *s, struct filewriter *w, struct ritem *it,
    const char *name, gfsb_err *ep)
{
	const struct gfsb_node *n = &it->node;
	struct sink k = { w->a, -1, 0, w->cv };
	struct timespec ts[2];
	struct wdone d;
	char sbuf[2 * SHOWN_PART + 4];
	int64_t uid, gid;

	if (!w->cwd.own || strchr(name, '/') != NULL || n->nxattrs > 0 ||
	    (n->mode & 07000) != 0)
		return 0;
	if ((k.fd = openat(AT_FDCWD, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, n->mode & 0777)) < 0)
		return 0; /* libarchive replaces it, or says why not */
	memset(&d, 0, sizeof(d));
	d.ok = 1;
	*ep = write_extents(s, &k, it, &d);
	if (*ep == GFSB_OK && d.ok && d.end < n->size &&
	    ftruncate(k.fd, (off_t)n->size) != 0) {
		d.ok = 0;
		d.warnings++;
		gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR, "%s: cannot write: %s",
		    rs_shown(it->abspath, sbuf), strerror(errno));
	}
	if (*ep == GFSB_OK && w->owner) {
		/* As libarchive restores owners: by name where the system
		 * knows it, else by number. */
		uid = archive_write_disk_uid(w->a, n->user, n->uid);
		gid = archive_write_disk_gid(w->a, n->group, n->gid);
		if (fchown(k.fd, (uid_t)uid, (gid_t)gid) != 0) {
			d.warnings++;
			gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set "
			    "the owner: %s", rs_shown(it->abspath, sbuf),
			    strerror(errno));
		}
	}
	ts[0].tv_sec = ts[1].tv_sec = (time_t)n->mtime.sec;
	ts[0].tv_nsec = ts[1].tv_nsec = (long)n->mtime.nsec;
	if (*ep == GFSB_OK && futimens(k.fd, ts) != 0) {
		d.warnings++;
		gfsb_ctx_log(s->ctx, GFSB_LOG_WARN, "%s: cannot set the "
		    "times: %s", rs_shown(it->abspath, sbuf), strerror(errno));
	}
	if (close(k.fd) != 0 && *ep == GFSB_OK && d.ok) {
		d.warnings++;
		gfsb_ctx_log(s->ctx, GFSB_LOG_ERROR, "%s: cannot write: %s",
		    rs_shown(it->abspath, sbuf), strerror(errno));
	}
	count_item(s, n, d.bytes, d.warnings, d.damaged);
	return 1;
}

static void *
file_main(void *arg)
{
	struct filewriter *w = arg;
	struct rs *s = w->s;
	struct ritem *it;
	const char *name;
	gfsb_err e;

	rs_cwd_init(&w->cwd);
	/* The thread's umask is its own with its directory (CLONE_FS): the
	 * direct path creates files with their modes as they are. */
	if (w->cwd.own)
		umask(0);
	w->owner = geteuid() == 0;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->fq_items == NULL && !s->files_end &&
		    s->err == GFSB_OK)
			pthread_cond_wait(&s->cv_file, &s->mu);
		if ((it = s->fq_items) != NULL) {
			s->fq_items = it->next;
			if (s->fq_items == NULL)
				s->fq_items_tail = NULL;
			it->next = NULL;
		}
		e = s->err;
		pthread_mutex_unlock(&s->mu);
		if (it == NULL)
			break;
		if (e == GFSB_OK) {
			name = rs_cwd_enter(&w->cwd, it->path);
			if (!write_file_direct(s, w, it, name, &e))
				e = write_item(s, w->a, it, name, 0, w->cv);
			if (e != GFSB_OK)
				rs_fail(s, e);
		}
		item_done(s, it, e);
	}
	rs_cwd_fini(&w->cwd);
	return NULL;
}

struct archive *
rs_disk_writer(void)
{
	struct archive *a;
	int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
	    ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
	    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

	if (geteuid() == 0)
		flags |= ARCHIVE_EXTRACT_OWNER;
	if ((a = archive_write_disk_new()) == NULL)
		return NULL;
	if (archive_write_disk_set_options(a, flags) != ARCHIVE_OK ||
	    archive_write_disk_set_standard_lookup(a) != ARCHIVE_OK) {
		archive_write_free(a);
		return NULL;
	}
	return a;
}

/* Start up to n file writers (none: the ordered writer writes all). */
void
rs_files_start(struct rs *s, struct filewriter *fw, unsigned n)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		fw[k].s = s;
		fw[k].cv = &s->cv_done[1 + k];
		if ((fw[k].a = rs_disk_writer()) == NULL)
			break;
		if (pthread_create(&fw[k].thread, NULL, file_main, &fw[k]) !=
		    0)
			break;
		fw[k].started = 1;
	}
}

/* Let the file writers finish what they hold, then close them. */
void
rs_files_stop(struct rs *s, struct filewriter *fw)
{
	unsigned k;

	pthread_mutex_lock(&s->mu);
	s->files_end = 1;
	pthread_cond_broadcast(&s->cv_file);
	pthread_mutex_unlock(&s->mu);
	for (k = 0; k < RS_FILE_WRITERS; k++) {
		if (fw[k].started)
			pthread_join(fw[k].thread, NULL);
		if (fw[k].a != NULL && archive_write_close(fw[k].a) !=
		    ARCHIVE_OK)
			rs_fail(s, gfsb_ctx_seterr(s->ctx, GFSB_EIO, "cannot "
			    "finish: %s", archive_error_string(fw[k].a)));
		if (fw[k].a != NULL)
			archive_write_free(fw[k].a);
		fw[k].a = NULL;
	}
}

/* Tell the caller where the restore stands (the ordered writer's
 * thread).  last: the final call, always made. */
void
rs_progress(struct rs *s, double t0, int last)
{
	struct gfsb_restore_progress *p = &s->prog;
	double now = gfsb_monotonic_seconds();

	if (!last && now - t0 - p->seconds < 0.1)
		return;
	p->seconds = now - t0;
	pthread_mutex_lock(&s->mu);
	p->files = s->res->files + s->res->dirs + s->res->others;
	p->bytes = s->res->bytes;
	if (!p->total_known || s->planned) {
		p->total_files = s->plan_files;
		p->total_bytes = s->plan_bytes;
		p->total_known = s->planned;
	}
	pthread_mutex_unlock(&s->mu);
	if (last) {
		p->total_files = p->files;
		p->total_bytes = p->bytes;
		p->total_known = 1;
	}
	s->o->progress(s->o->progress_cookie, p);
}

/* The ordered writer: every item in the snapshot's order, handing regular
 * files to the file writers when there are any. */
void
rs_write_all(struct rs *s, struct archive *a, int tar, double t0)
{
	struct ritem *it;
	int parallel;
	gfsb_err e;

	pthread_mutex_lock(&s->mu);
	parallel = !tar && !s->files_end;
	pthread_mutex_unlock(&s->mu);
	while ((it = next_item(s)) != NULL) {
		if (it->end) {
			item_done(s, it, GFSB_OK);
			break;
		}
		if (parallel && for_file_writer(it)) {
			file_queue(s, it);
		} else {
			e = write_item(s, a, it, it->path, tar, &s->cv_done[0]);
			if (e == GFSB_OK && it->node.kind == GFSB_NODE_DIR &&
			    s->o->overwrite != GFSB_OVERWRITE_REFUSE)
				e = rs_note_dir(s, it);
			if (e != GFSB_OK)
				rs_fail(s, e);
			item_done(s, it, e);
			if (e != GFSB_OK)
				break;
		}
		if (s->o->progress != NULL)
			rs_progress(s, t0, 0);
		if (gfsb_ctx_canceled(s->ctx)) {
			rs_fail(s, GFSB_ECANCELED);
			break;
		}
	}
}

