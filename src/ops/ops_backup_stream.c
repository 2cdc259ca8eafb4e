/*
 * Backup of streams: standard input, or what a command writes (a
 * database dump), each stored as one file at the snapshot's root, read
 * to its end, chunked, deduplicated and stored as any file's content.
 * A command that fails (exit status other than 0, a signal) fails the
 * backup: no snapshot is written, and what was stored is indexed for the
 * next backup to reuse, as after an interrupted one.  Which options go
 * with a stream is decided here too (gfsb_ops_backup_stream_check).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gfsbackup/chunker.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

struct streamer {
	struct gfsb_repo *r;
	struct gfsb_repo_io *io;
	struct gfsb_ctx *ctx;
	uint8_t *buf;
	size_t cap;		/* the chunker's largest chunk */
};

/* A chunk of the stream stored, and named in the file's extents. */
static gfsb_err
store(struct streamer *s, struct gfsb_node *n, const uint8_t *p, size_t len)
{
	struct gfsb_extent *x;
	int added;
	gfsb_err e;

	if ((x = realloc(n->extents, (n->nextents + 1) * sizeof(*x))) == NULL)
		return GFSB_ENOMEM;
	n->extents = x;
	x = &n->extents[n->nextents];
	memset(x, 0, sizeof(*x));
	if ((e = gfsb_repo_blob_write(s->io, GFSB_BLOB_DATA, p, len, x->id, 0,
	    &added)) != GFSB_OK)
		return e;
	x->len = len;
	n->nextents++;
	n->size += len;
	return GFSB_OK;
}

/* fd read to its end, cut where the chunker cuts a file. */
static gfsb_err
content(struct streamer *s, int fd, const char *name, struct gfsb_node *n)
{
	const struct gfsb_chunker *ck = gfsb_repo_chunker(s->r);
	struct gfsb_chunker_scan scan;
	size_t have = 0, k;
	ssize_t got;
	int eof = 0;
	gfsb_err e;

	gfsb_chunker_scan_init(&scan);
	while (!eof || have > 0) {
		while (!eof && have < s->cap) {
			got = read(fd, s->buf + have, s->cap - have);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: "
				    "cannot read it: %s", name,
				    strerror(errno));
			if (got == 0)
				eof = 1;
			have += (size_t)got;
			if (gfsb_ctx_canceled(s->ctx))
				return GFSB_ECANCELED;
		}
		if ((k = gfsb_chunker_find(ck, &scan, s->buf, have)) == 0)
			k = have;	/* the end: the last chunk */
		if (k > 0 && (e = store(s, n, s->buf, k)) != GFSB_OK)
			return e;
		memmove(s->buf, s->buf + k, have - k);
		have -= k;
		gfsb_chunker_scan_init(&scan);
	}
	return GFSB_OK;
}

/* A command's standard output read as the stream; its exit checked. */
static gfsb_err
command(struct streamer *s, const struct gfsb_backup_stream *st,
    struct gfsb_node *n)
{
	int pfd[2], efd[2] = { -1, -1 }, status = 0, err = 0;
	gfsb_err e;
	pid_t pid;

	/* efd carries errno when exec fails (it closes on a good exec). */
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: cannot run %s: "
		    "%s", st->name, st->argv[0], strerror(errno));
	if (pipe2(efd, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		e = gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: cannot run %s: %s",
		    st->name, st->argv[0], strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		if (efd[0] >= 0) {
			close(efd[0]);
			close(efd[1]);
		}
		return e;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execvp(st->argv[0], (char *const *)(uintptr_t)st->argv);
		err = errno;
		(void)!write(efd[1], &err, sizeof(err));
		_exit(127);
	}
	close(pfd[1]);
	close(efd[1]);
	e = content(s, pfd[0], st->name, n);
	if (e != GFSB_OK)
		kill(pid, SIGTERM);	/* no reader left for it */
	close(pfd[0]);
	if (read(efd[0], &err, sizeof(err)) != sizeof(err))
		err = 0;
	close(efd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (err != 0)
		return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: cannot run %s: "
		    "%s; no snapshot stored", st->name, st->argv[0],
		    strerror(err));
	if (e != GFSB_OK)
		return e;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return GFSB_OK;
	if (WIFSIGNALED(status))
		return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: %s was killed by "
		    "signal %d; no snapshot stored", st->name, st->argv[0],
		    WTERMSIG(status));
	return gfsb_ctx_seterr(s->ctx, GFSB_EIO, "%s: %s exited with status "
	    "%d; no snapshot stored", st->name, st->argv[0],
	    WEXITSTATUS(status));
}

/* One stream as a file node of the root tree. */
static gfsb_err
one(struct streamer *s, const struct gfsb_backup_stream *st,
    const struct gfsb_time *now, struct gfsb_tree *root)
{
	struct gfsb_node n;
	gfsb_err e;

	memset(&n, 0, sizeof(n));
	n.kind = GFSB_NODE_FILE;
	n.mode = S_IFREG | 0600;	/* a dump is as private as its data */
	n.uid = (uint32_t)getuid();
	n.gid = (uint32_t)getgid();
	n.mtime = n.ctime = *now;
	n.nlink = 1;
	if ((n.name = strdup(st->name)) == NULL)
		return GFSB_ENOMEM;
	e = st->argv != NULL ? command(s, st, &n) : content(s, st->fd,
	    st->name, &n);
	if (e == GFSB_OK)
		e = gfsb_repo_tree_add(root, &n);
	gfsb_repo_node_fini(&n);
	return e;
}

/* The names: one path component each, all different. */
static gfsb_err
check_names(struct gfsb_ctx *ctx, const struct gfsb_backup_stream *s,
    size_t n)
{
	size_t i, k;

	if (n == 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "no stream to back up");
	for (i = 0; i < n; i++) {
		if (s[i].name == NULL || *s[i].name == '\0' ||
		    strchr(s[i].name, '/') != NULL ||
		    strcmp(s[i].name, ".") == 0 || strcmp(s[i].name, "..") == 0)
			return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid "
			    "stream name \"%s\": give a file name, without /",
			    s[i].name != NULL ? s[i].name : "");
		for (k = 0; k < i; k++)
			if (strcmp(s[k].name, s[i].name) == 0)
				return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
				    "stream name \"%s\" given twice",
				    s[i].name);
	}
	return GFSB_OK;
}

/* The snapshot of the root tree: who, when, the streams as its paths. */
static gfsb_err
snapshot(struct gfsb_repo *r, const struct gfsb_backup_opts *o,
    const struct gfsb_backup_stream *st, size_t n, const uint8_t *root,
    const struct gfsb_repo_stats *before, struct gfsb_backup_result *res,
    const struct gfsb_time *start)
{
	struct gfsb_snapshot *s = calloc(1, sizeof(*s));
	struct gfsb_snapshot_summary *m;
	struct gfsb_repo_stats after;
	char host[256], user[64];
	size_t i;
	gfsb_err e = GFSB_ENOMEM;

	if (s == NULL)
		return e;
	gfsb_sys_hostname(host, sizeof(host));
	gfsb_sys_username(user, sizeof(user));
	s->time = *start;
	if (o->has_time)
		s->time = o->time;
	s->uid = (uint32_t)getuid();
	s->gid = (uint32_t)getgid();
	memcpy(s->tree, root, GFSB_ID_LEN);
	if ((s->hostname = strdup(o->host != NULL ? o->host : host)) == NULL ||
	    (s->username = strdup(user)) == NULL ||
	    (s->program_version = strdup("gfsbackup " GFSB_VERSION)) == NULL ||
	    (s->paths = calloc(n, sizeof(*s->paths))) == NULL ||
	    (o->ntags > 0 && (s->tags = calloc(o->ntags,
	    sizeof(*s->tags))) == NULL))
		goto out;
	for (s->npaths = 0; s->npaths < n; s->npaths++)
		if (asprintf(&s->paths[s->npaths], "/%s", st[s->npaths].name) <
		    0)
			goto out;
	for (s->ntags = 0; s->ntags < o->ntags; s->ntags++)
		if ((s->tags[s->ntags] = strdup(o->tags[s->ntags])) == NULL)
			goto out;
	gfsb_repo_stats_get(r, &after);
	s->has_summary = 1;
	m = &s->summary;
	m->files_new = n;
	m->dirs_new = 1;
	m->data_blobs = after.blobs_added[GFSB_BLOB_DATA] -
	    before->blobs_added[GFSB_BLOB_DATA];
	m->tree_blobs = after.blobs_added[GFSB_BLOB_TREE] -
	    before->blobs_added[GFSB_BLOB_TREE];
	for (i = 0; i < 2; i++) {
		m->data_added += after.raw_added[i] - before->raw_added[i];
		m->data_added_packed += after.stored_added[i] -
		    before->stored_added[i];
	}
	m->total_files_processed = n;
	m->total_bytes_processed = res->summary.total_bytes_processed;
	m->backup_start = *start;
	gfsb_time_now(&m->backup_end);
	if ((e = gfsb_repo_snapshot_save(r, s)) == GFSB_OK) {
		memcpy(res->snapshot_id, s->id, sizeof(res->snapshot_id));
		res->summary = *m;
	}
out:
	gfsb_repo_snapshot_free(s);
	return e;
}

/* The streams into the root tree; its id. */
static gfsb_err
streams(struct streamer *s, const struct gfsb_backup_stream *st, size_t n,
    const struct gfsb_time *now, uint8_t root[GFSB_ID_LEN],
    uint64_t *bytes)
{
	struct gfsb_tree t;
	struct gfsb_buf enc;
	size_t i;
	int added;
	gfsb_err e = GFSB_OK;

	gfsb_repo_tree_init(&t);
	gfsb_buf_init(&enc);
	for (i = 0; i < n && e == GFSB_OK; i++)
		e = one(s, &st[i], now, &t);
	for (i = 0; i < t.n; i++)
		*bytes += t.nodes[i].size;
	if (e == GFSB_OK) {
		gfsb_repo_tree_sort(&t);
		if ((e = gfsb_repo_tree_encode(&t, &enc)) == GFSB_OK)
			e = gfsb_repo_blob_write(s->io, GFSB_BLOB_TREE,
			    enc.data, enc.len, root, 0, &added);
	}
	gfsb_buf_fini(&enc);
	gfsb_repo_tree_fini(&t);
	return e;
}

gfsb_err
gfsb_ops_backup_streams(struct gfsb_repo *r, const struct gfsb_backup_opts *o,
    const struct gfsb_backup_stream *st, size_t n,
    struct gfsb_backup_result *res)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	struct gfsb_repo_stats before;
	struct gfsb_lock *lock = NULL;
	uint8_t root[GFSB_ID_LEN];
	struct gfsb_time start;
	struct streamer s;
	double t0 = gfsb_monotonic_seconds();
	gfsb_err e, e2;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	s.r = r;
	s.ctx = ctx;
	s.cap = gfsb_chunker_get_params(gfsb_repo_chunker(r))->max;
	gfsb_time_now(&start);
	if ((e = check_names(ctx, st, n)) != GFSB_OK ||
	    (e = gfsb_repo_lock(r, 0, &lock)) != GFSB_OK ||
	    (e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_pack_recover(r, &res->recovered_packs)) !=
	    GFSB_OK || (e = gfsb_repo_io_new(r, &s.io)) != GFSB_OK)
		goto out;
	if ((s.buf = malloc(s.cap)) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	gfsb_repo_stats_get(r, &before);
	e = streams(&s, st, n, &start, root,
	    &res->summary.total_bytes_processed);
	/* What was stored is indexed either way, for the next to reuse. */
	e2 = gfsb_repo_flush(r);
	if (e == GFSB_OK && (e = e2) == GFSB_OK)
		e = snapshot(r, o, st, n, root, &before, res, &start);
out:
	res->seconds = gfsb_monotonic_seconds() - t0;
	free(s.buf);
	gfsb_repo_io_free(s.io);
	gfsb_repo_unlock(lock);
	return e;
}

gfsb_err
gfsb_ops_backup_stream_check(struct gfsb_ctx *ctx, int use_stdin,
    int from_cmd, int nargs, const char *name,
    const struct gfsb_backup_opts *o)
{
	if (use_stdin && from_cmd)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "give --stdin or "
		    "--stdin-from-command, not both");
	if (!use_stdin && !from_cmd)
		return name == NULL ? GFSB_OK : gfsb_ctx_seterr(ctx,
		    GFSB_EINVAL, "--stdin-filename goes with --stdin or "
		    "--stdin-from-command");
	if (from_cmd && nargs == 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "--stdin-from-command: "
		    "give the command after --");
	if (!from_cmd && nargs > 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "--stdin takes no "
		    "paths");
	/* One file, read to its end: nothing to leave out or pretend. */
	if (o->dry_run || o->nexcludes > 0 || o->nexclude_files > 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "a stream goes whole: "
		    "no --dry-run, no exclusions");
	return GFSB_OK;
}
