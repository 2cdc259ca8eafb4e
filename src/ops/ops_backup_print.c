/*
 * A backup told to a person (its progress line, and the line on the
 * snapshot it saved) or to a program (restic's --json status and
 * summary records).
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

void
gfsb_ops_backup_progress_line(const struct gfsb_backup_progress *p,
    char *buf, size_t len)
{
	char done[32], total[32], eta[32] = "";
	double rate = p->seconds > 0 ? (double)p->bytes_done / p->seconds : 0;
	unsigned s = (unsigned)p->seconds, left;

	gfsb_size_format(p->bytes_done, done, sizeof(done));
	if (!p->totals_known) {
		snprintf(buf, len, "[%u:%02u] %llu files, %s, %.0f MB/s",
		    s / 60, s % 60, (unsigned long long)p->files_done, done,
		    rate / 1e6);
		return;
	}
	if (rate > 0 && p->bytes_total > p->bytes_done) {
		left = (unsigned)((double)(p->bytes_total - p->bytes_done) /
		    rate);
		snprintf(eta, sizeof(eta), ", ETA %u:%02u", left / 60,
		    left % 60);
	}
	gfsb_size_format(p->bytes_total, total, sizeof(total));
	snprintf(buf, len, "[%u:%02u] %llu of %llu files, %s of %s, "
	    "%.0f MB/s%s", s / 60, s % 60, (unsigned long long)p->files_done,
	    (unsigned long long)p->files_total, done, total, rate / 1e6, eta);
}

void
gfsb_ops_backup_summary(const struct gfsb_backup_result *res, char *buf,
    size_t len)
{
	const struct gfsb_snapshot_summary *m = &res->summary;
	char added[32], stored[32], total[32];

	gfsb_size_format(m->total_bytes_processed, total, sizeof(total));
	gfsb_size_format(m->data_added, added, sizeof(added));
	gfsb_size_format(m->data_added_packed, stored, sizeof(stored));
	if (res->dry_run) {
		snprintf(buf, len, "dry run, nothing written: %llu files "
		    "(%llu new, %llu changed, %llu unchanged), %s processed; "
		    "would add %s new data (%s stored)",
		    (unsigned long long)m->total_files_processed,
		    (unsigned long long)m->files_new,
		    (unsigned long long)m->files_changed,
		    (unsigned long long)m->files_unmodified, total, added,
		    stored);
		return;
	}
	snprintf(buf, len, "snapshot %.8s saved: %llu files (%llu new, %llu "
	    "changed, %llu unchanged), %s processed, %s new data (%s stored) "
	    "in %.1f s", res->snapshot_id,
	    (unsigned long long)m->total_files_processed,
	    (unsigned long long)m->files_new,
	    (unsigned long long)m->files_changed,
	    (unsigned long long)m->files_unmodified, total, added, stored,
	    res->seconds);
}

char *
gfsb_ops_backup_status_json(const struct gfsb_backup_progress *p)
{
	double rate = p->seconds > 0 ? (double)p->bytes_done / p->seconds : 0;
	double pct = p->totals_known && p->bytes_total > 0 ?
	    (double)p->bytes_done / (double)p->bytes_total : 0;
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:f, s:I, s:I, s:I, s:I, s:I}", "message_type",
	    "status", "percent_done", pct > 1 ? 1.0 : pct, "total_files",
	    (json_int_t)(p->totals_known ? p->files_total : 0), "files_done",
	    (json_int_t)p->files_done, "total_bytes",
	    (json_int_t)(p->totals_known ? p->bytes_total : 0), "bytes_done",
	    (json_int_t)p->bytes_done, "seconds_elapsed",
	    (json_int_t)p->seconds);
	if (o != NULL && p->totals_known && rate > 0 &&
	    p->bytes_total > p->bytes_done)
		json_object_set_new(o, "seconds_remaining", json_integer(
		    (json_int_t)((double)(p->bytes_total - p->bytes_done) /
		    rate)));
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

char *
gfsb_ops_backup_summary_json(const struct gfsb_backup_result *res)
{
	char *m = gfsb_repo_snapshot_summary_json(&res->summary), *s = NULL;
	json_t *o = m != NULL ? json_loads(m, 0, NULL) : NULL;

	/* The snapshot's summary, and what restic's record adds to it. */
	if (o != NULL && json_object_set_new(o, "message_type",
	    json_string("summary")) == 0 && json_object_set_new(o,
	    "total_duration", json_real(res->seconds)) == 0 &&
	    json_object_set_new(o, "snapshot_id",
	    json_string(res->snapshot_id)) == 0)
		s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(m);
	return s;
}

int
gfsb_ops_backup_told(const struct gfsb_backup_result *res, int json,
    int quiet, gfsb_ops_line_fn *fn, void *cookie)
{
	char line[512], *js;

	if (json) {
		if ((js = gfsb_ops_backup_summary_json(res)) == NULL)
			return GFSB_EXIT_FATAL;
		fn(cookie, GFSB_OPS_LINE_RESULT, js);
		free(js);
	} else if (!quiet) {
		gfsb_ops_backup_summary(res, line, sizeof(line));
		fn(cookie, GFSB_OPS_LINE_RESULT, line);
	}
	if (res->summary.warnings == 0)
		return GFSB_EXIT_OK;
	snprintf(line, sizeof(line), "gfsbackup: backup: %llu warning(s): "
	    "some files could not be read (see above)",
	    (unsigned long long)res->summary.warnings);
	fn(cookie, GFSB_OPS_LINE_WARNING, line);
	return GFSB_EXIT_PARTIAL;
}
