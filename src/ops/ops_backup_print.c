/*
 * A backup told to a person: its progress line, and the line on the
 * snapshot it saved.
 */
#include <stdio.h>

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
	snprintf(buf, len, "snapshot %.8s saved: %llu files (%llu new, %llu "
	    "changed, %llu unchanged), %s processed, %s new data (%s stored) "
	    "in %.1f s", res->snapshot_id,
	    (unsigned long long)m->total_files_processed,
	    (unsigned long long)m->files_new,
	    (unsigned long long)m->files_changed,
	    (unsigned long long)m->files_unmodified, total, added, stored,
	    res->seconds);
}
