/*
 * A sync told to a person: its progress line and the lines gfsbackup
 * sync prints about what it did.
 */
#include <stdio.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_line.h"

void
gfsb_ops_sync_progress_line(const struct gfsb_sync_progress *p, char *buf,
    size_t len)
{
	char done[32], total[32];
	double rate = p->seconds > 0 ? (double)p->bytes_done / p->seconds : 0;
	unsigned s = (unsigned)p->seconds;

	gfsb_size_format(p->bytes_done, done, sizeof(done));
	gfsb_size_format(p->bytes_total, total, sizeof(total));
	snprintf(buf, len, "[%u:%02u] %llu of %llu objects, %s of %s, "
	    "%.1f MB/s", s / 60, s % 60, (unsigned long long)p->objects_done,
	    (unsigned long long)p->objects_total, done, total, rate / 1e6);
}

/* What the mirror kept, what the storage refused to delete, its keys. */
static void
kept(struct ops_lines *o, const struct gfsb_sync_result *res)
{
	if (res->kept > 0 || res->index_written > 0)
		ops_line_put(o, "kept %llu objects the source no longer has%s",
		    (unsigned long long)res->kept, res->index_written > 0 ?
		    "; wrote an index for the mirror alone, naming what it "
		    "keeps" : "");
	if (res->delete_refused > 0)
		ops_line_put(o, "%llu deletion%s refused by the storage: kept, "
		    "and what they need indexed",
		    (unsigned long long)res->delete_refused,
		    res->delete_refused == 1 ? "" : "s");
	if (res->keys_kept > 0)
		ops_line_put(o, "%llu key file%s only at the mirror (kept)",
		    (unsigned long long)res->keys_kept,
		    res->keys_kept == 1 ? "" : "s");
}

/* The mirror's Object Lock: the dates extended, the deletions waiting. */
static void
locks(struct ops_lines *o, const struct gfsb_sync_result *res)
{
	char until[64] = "";
	struct gfsb_time t;

	if (res->locked == GFSB_LOCK_NONE)
		return;
	ops_line_add(o, "Object Lock (%s): %llu locks extended, %llu requests "
	    "in %.1f s", gfsb_lock_mode_name(res->locked),
	    (unsigned long long)res->locks.extended,
	    (unsigned long long)res->locks.requests, res->locks.seconds);
	if (res->locks.waiting > 0) {
		t.sec = res->locks.waiting_until;
		t.nsec = 0;
		gfsb_time_format_local(&t, until, sizeof(until));
		ops_line_add(o, "; %llu objects the source deleted wait on "
		    "their locks, until %s at the latest",
		    (unsigned long long)res->locks.waiting, until);
	}
	ops_line_end(o, GFSB_OPS_LINE_RESULT);
}

gfsb_err
gfsb_ops_sync_lines(const struct gfsb_sync_result *res, int dry_run,
    gfsb_ops_line_fn *fn, void *cookie)
{
	struct ops_lines o;
	char bytes[32];
	double rate = res->seconds > 0 ? (double)res->copied_bytes /
	    res->seconds : 0;

	ops_line_init(&o, fn, cookie);
	if (dry_run) {
		ops_line_put(&o, "would copy %llu objects, delete %llu; %llu "
		    "already at the mirror (dry run: nothing was changed)",
		    (unsigned long long)res->copied,
		    (unsigned long long)res->deleted,
		    (unsigned long long)res->present);
		return ops_line_fini(&o);
	}
	gfsb_size_format(res->copied_bytes, bytes, sizeof(bytes));
	ops_line_put(&o, "%scopied %llu objects (%s), %llu already present, "
	    "deleted %llu, %llu failed in %.1f s (%.1f MB/s)",
	    res->initialized ? "created the mirror; " : "",
	    (unsigned long long)res->copied, bytes,
	    (unsigned long long)res->present,
	    (unsigned long long)res->deleted,
	    (unsigned long long)res->failed, res->seconds, rate / 1e6);
	if (res->upgraded)
		ops_line_put(&o, "gave the mirror's config the source's "
		    "reader keys (format version 2: write-only keys)");
	kept(&o, res);
	locks(&o, res);
	return ops_line_fini(&o);
}

gfsb_err
gfsb_ops_sync_told(gfsb_err e, const struct gfsb_sync_result *res,
    int dry_run, int quiet, int verbose, gfsb_ops_line_fn *fn,
    void *cookie)
{
	char line[256];
	gfsb_err err = GFSB_OK;

	/* A sync refused before it began is its error line alone. */
	if ((!quiet && e == GFSB_OK) || (e != GFSB_OK && res->copied +
	    res->deleted + res->failed + res->present > 0))
		err = gfsb_ops_sync_lines(res, dry_run, fn, cookie);
	if (verbose) {
		gfsb_ops_io_line("source", &res->src_io, line, sizeof(line));
		fn(cookie, GFSB_OPS_LINE_RESULT, line);
		gfsb_ops_io_line("mirror", &res->dst_io, line, sizeof(line));
		fn(cookie, GFSB_OPS_LINE_RESULT, line);
	}
	return err;
}
