/*
 * The backup producer, reading and chunking: a file is read in steps,
 * chunked as it streams in (FastCDC), each chunk queued for the workers
 * (or, a chunk already stored, only recorded); sparse files region by
 * region (SEEK_DATA/SEEK_HOLE), holes recorded and never read; small
 * files read whole by the workers.
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

#define READ_STEP (256U << 10)

/* Append an extent to f; returns its index.  bk->mu held. */
static gfsb_err
ext_append_locked(struct fjob *f, int hole, uint64_t len, size_t *idx)
{
	struct gfsb_extent *grown;

	if (f->next == f->cap) {
		size_t ncap = f->cap ? 2 * f->cap : 4;

		if ((grown = realloc(f->ext, ncap * sizeof(*grown))) == NULL)
			return GFSB_ENOMEM;
		f->ext = grown;
		f->cap = ncap;
	}
	memset(&f->ext[f->next], 0, sizeof(f->ext[0]));
	f->ext[f->next].hole = (uint8_t)hole;
	f->ext[f->next].len = len;
	*idx = f->next++;
	return GFSB_OK;
}

gfsb_err
bk_store_chunk(struct bk *b, struct gfsb_repo_io *io, struct fjob *f,
    size_t idx, const uint8_t *data, size_t len)
{
	uint8_t id[GFSB_ID_LEN];
	int added;
	gfsb_err e;

	e = gfsb_repo_blob_write(io, GFSB_BLOB_DATA, data, len, id, 0, &added);
	if (e != GFSB_OK) {
		bk_fail(b, e);
		return e;
	}
	pthread_mutex_lock(&b->mu);
	memcpy(f->ext[idx].id, id, GFSB_ID_LEN);
	pthread_mutex_unlock(&b->mu);
	atomic_fetch_add(&b->bytes_done, len);
	return GFSB_OK;
}

/*
 * Hand one chunk on: stored right here in a worker (io set), else queued
 * for the workers.  Takes ownership of data.
 */
static gfsb_err
emit_chunk(struct bk *b, struct gfsb_repo_io *io, struct fjob *f,
    uint8_t *data, size_t len, size_t cap)
{
	struct cjob *j = NULL;
	size_t idx;
	gfsb_err e;

	if (io == NULL && (j = calloc(1, sizeof(*j))) == NULL) {
		gfsb_pool_put(b->bufs, data, cap);
		return GFSB_ENOMEM;
	}
	pthread_mutex_lock(&b->mu);
	e = ext_append_locked(f, 0, len, &idx);
	if (e != GFSB_OK || io != NULL) {
		pthread_mutex_unlock(&b->mu);
		if (e == GFSB_OK)
			e = bk_store_chunk(b, io, f, idx, data, len);
		gfsb_pool_put(b->bufs, data, cap);
		free(j);
		return e;
	}
	/* Charged its buffer, not its bytes: a file's short last chunk
	 * holds a whole chunk buffer too. */
	bk_wait_space_locked(b, cap);
	if ((e = b->err) != GFSB_OK) {
		pthread_mutex_unlock(&b->mu);
		gfsb_pool_put(b->bufs, data, cap);
		free(j);
		return e;
	}
	f->pending++;
	f->refs++; /* the job's */
	j->f = f;
	j->idx = idx;
	j->data = data;
	j->len = len;
	j->cap = cap;
	j->charge = cap;
	bk_queue_job_locked(b, j);
	pthread_mutex_unlock(&b->mu);
	return GFSB_OK;
}

/*
 * A chunk's buffer: one size for all but the rare chunk longer than the
 * average by half, so that an idle buffer fits any request and is reused
 * whole (a buffer grown by realloc, or one a little too small, is fresh
 * pages, each a page fault).
 */
size_t
bk_chunk_cap(const struct bk *b)
{
	return (size_t)b->chunk_min + b->chunk_avg / 2 + 2 * READ_STEP;
}

/* A buffer for the longest chunk and a read step past it. */
size_t
bk_big_cap(const struct bk *b)
{
	return (size_t)b->chunk_max + 2 * READ_STEP;
}

/* The first buffer for a region: a small file's size and a page
 * (malloc's), or a chunk's buffer. */
static size_t
first_cap(struct bk *b, const struct fjob *f, uint64_t off)
{
	uint64_t left = f->size_hint > off ? f->size_hint - off : 0;

	if (left + 4096 < bk_chunk_cap(b))
		return (size_t)left + 4096;
	return bk_chunk_cap(b);
}

/*
 * A chunk outgrew its buffer (no cut point in its first chunk-buffer's
 * worth, as in a run of zeros): move it into a buffer that holds the
 * longest chunk, taken from the pool, and give the old one back.  Such
 * buffers are all one size, so they too are reused whole; grown by
 * realloc, each step was fresh pages (a 1 GiB backup grew chunks 78
 * times, 22,000 page faults).  On failure buf stays the caller's.
 */
static uint8_t *
grow(struct bk *b, uint8_t *buf, size_t len, size_t cap, size_t need,
    size_t *ncap)
{
	size_t big = bk_big_cap(b);
	uint8_t *nb;

	if ((nb = gfsb_pool_get(b->bufs, need > big ? need : big, ncap)) ==
	    NULL)
		return NULL;
	memcpy(nb, buf, len);
	gfsb_pool_put(b->bufs, buf, cap);
	return nb;
}

/* Outcome of reading a region: done, a read error (file fails), fatal. */
enum { RD_OK = 0, RD_FILE = 1, RD_FATAL = 2 };

/*
 * Read [off, end) (or to EOF) from fd, cutting chunks as the data arrives.
 * The chunker resumes its scan where it stopped, so reading in steps
 * gives the same boundaries as reading the file at once.  size is what
 * fstat said of the open file.  *got counts the bytes read.
 */
static int
chunk_region(struct bk *b, struct gfsb_repo_io *io, struct fjob *f, int fd,
    uint64_t off, uint64_t end, uint64_t size, uint64_t *got)
{
	struct gfsb_chunker_scan scan;
	uint8_t *buf = NULL, *nb;
	size_t len = 0, cap = 0, cut, want;
	ssize_t n;
	int eof;

	*got = 0;
	gfsb_chunker_scan_init(&scan);
	for (;;) {
		if (bk_stopping(b))
			goto fatal;
		want = len < b->chunk_min ? b->chunk_min - len : READ_STEP;
		if (end != UINT64_MAX && want > end - off)
			want = (size_t)(end - off);
		if (want == 0)
			break;
		if (buf == NULL && (buf = gfsb_pool_get(b->bufs, first_cap(b,
		    f, off), &cap)) == NULL)
			goto fatal_nomem;
		/* Fill the buffer before growing it: a small file's buffer
		 * holds its size and a page, and its end is a read of 0. */
		if (len < cap && want > cap - len)
			want = cap - len;
		if (len + want > cap) {
			if ((nb = grow(b, buf, len, cap, len + want,
			    &cap)) == NULL)
				goto fatal_nomem;
			buf = nb;
		}
		n = pread(fd, buf + len, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bk_warn(b, "%s: read error: %s", f->path,
			    strerror(errno));
			free(buf);
			return RD_FILE;
		}
		if (n == 0)
			break;
		/* A short read that reaches the size fstat gave is the end:
		 * no read of 0 to confirm it (a syscall per small file).  A
		 * file that grows meanwhile is caught by the stat after. */
		eof = (size_t)n < want && end == UINT64_MAX &&
		    off + (uint64_t)n >= size;
		len += (size_t)n;
		off += (uint64_t)n;
		*got += (uint64_t)n;
		while ((cut = gfsb_chunker_find(b->ck, &scan, buf, len)) > 0) {
			/* The tail (at most one read step) starts the next
			 * chunk; the chunk keeps the buffer. */
			size_t tail = len - cut, ncap;

			ncap = tail + READ_STEP + b->chunk_min;
			if ((nb = gfsb_pool_get(b->bufs, ncap > bk_chunk_cap(b) ?
			    ncap : bk_chunk_cap(b), &ncap)) == NULL)
				goto fatal_nomem;
			memcpy(nb, buf + cut, tail);
			if (emit_chunk(b, io, f, buf, cut, cap) != GFSB_OK) {
				gfsb_pool_put(b->bufs, nb, ncap);
				return RD_FATAL;
			}
			buf = nb;
			cap = ncap;
			len = tail;
			gfsb_chunker_scan_init(&scan);
		}
		if (eof)
			break;
	}
	if (len > 0)
		return emit_chunk(b, io, f, buf, len, cap) == GFSB_OK ? RD_OK :
		    RD_FATAL;
	gfsb_pool_put(b->bufs, buf, cap);
	return RD_OK;
fatal_nomem:
	bk_fail(b, GFSB_ENOMEM);
fatal:
	gfsb_pool_put(b->bufs, buf, cap);
	return RD_FATAL;
}

static int
add_hole(struct bk *b, struct fjob *f, uint64_t len)
{
	size_t idx;
	gfsb_err e;

	pthread_mutex_lock(&b->mu);
	e = ext_append_locked(f, 1, len, &idx);
	pthread_mutex_unlock(&b->mu);
	if (e != GFSB_OK) {
		bk_fail(b, e);
		return RD_FATAL;
	}
	return RD_OK;
}

/*
 * Read the content of f from fd: check it is still the file we listed,
 * take its xattrs, then read its data regions.  Sets f->failed on a read
 * error.
 */
void
bk_read_content(struct bk *b, struct gfsb_repo_io *io, struct fjob *f, int fd)
{
	struct stat st, st2;
	uint64_t pos = 0, got;
	off_t data, hole;
	int rc = RD_OK, sparse;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_dev != f->dev || st.st_ino != f->ino) {
		bk_warn(b, "%s: replaced while backing up; skipped", f->path);
		f->failed = 1;
		return;
	}
	bk_read_xattrs(b, fd, NULL, f->path, &f->xattrs, &f->nxattrs);
	sparse = st.st_size > 0 &&
	    (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size;
	if (sparse) {
		while (pos < (uint64_t)st.st_size && rc == RD_OK) {
			data = lseek(fd, (off_t)pos, SEEK_DATA);
			if (data < 0 && errno == ENXIO) {
				rc = add_hole(b, f, (uint64_t)st.st_size - pos);
				pos = (uint64_t)st.st_size;
				break;
			}
			if (data < 0) {
				if (pos == 0 && errno == EINVAL) {
					sparse = 0; /* no SEEK_DATA here */
					break;
				}
				bk_warn(b, "%s: seek error: %s", f->path,
				    strerror(errno));
				rc = RD_FILE;
				break;
			}
			hole = lseek(fd, data, SEEK_HOLE);
			if (hole < 0 || hole <= data) {
				hole = st.st_size;
			}
			if ((uint64_t)data > pos)
				rc = add_hole(b, f, (uint64_t)data - pos);
			if (rc != RD_OK)
				break;
			rc = chunk_region(b, io, f, fd, (uint64_t)data,
			    (uint64_t)hole, (uint64_t)st.st_size, &got);
			pos = (uint64_t)data + got;
			if (got < (uint64_t)(hole - data))
				break; /* shrank while we read */
		}
	}
	if (!sparse && rc == RD_OK) {
		rc = chunk_region(b, io, f, fd, 0, UINT64_MAX,
		    (uint64_t)st.st_size, &got);
		pos = got;
	}
	if (rc == RD_FILE)
		f->failed = 1;
	f->size = pos;
	if (rc == RD_OK && fstat(fd, &st2) == 0 &&
	    (st2.st_size != st.st_size ||
	    st2.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    st2.st_mtim.tv_nsec != st.st_mtim.tv_nsec))
		gfsb_ctx_log(b->ctx, GFSB_LOG_WARN,
		    "%s: changed while being read; saved as read", f->path);
}

int
bk_open_nofollow(int dirfd, const char *name, int flags)
{
	int fd;

	/* O_NOATIME keeps a backup from touching atimes, but only the owner
	 * (or root) may use it. */
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

void
bk_read_small(struct bk *b, struct gfsb_repo_io *io, struct fjob *f)
{
	int fd;

	fd = bk_open_nofollow(f->dir->fd, f->name, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		bk_warn(b, "%s: cannot open: %s", f->path, strerror(errno));
		f->failed = 1;
		return;
	}
	bk_read_content(b, io, f, fd);
	close(fd);
}

