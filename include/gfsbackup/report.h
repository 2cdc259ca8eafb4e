/*
 * report: the morning verification report and its delivery.
 *
 * A report is a plain set of facts (struct gfsb_report) filled by the
 * program from what verify, backup, forget, prune and sync found.  This
 * module renders the same facts twice: as text (readable in a terminal and
 * as the text part of the mail) and as HTML with inline CSS only (no
 * scripts, no remote images, no <style> block), and sends both as one MIME
 * multipart/alternative email over SMTP with libcurl.  It knows nothing of
 * repositories.
 */
#ifndef GFSBACKUP_REPORT_H
#define GFSBACKUP_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/util.h>

struct gfsb_ctx;

/* Overall status, worst last (so max() combines them). */
enum gfsb_report_status {
	GFSB_REPORT_OK = 0,
	GFSB_REPORT_WARNING = 1,
	GFSB_REPORT_FAILED = 2
};

/* "OK", "WARNING", "FAILED". */
const char *gfsb_report_status_name(enum gfsb_report_status s);

/*
 * What to do when verification found damage (README, section 7), in lines
 * of at most 68 columns, NULL-terminated: the report shows them under the
 * damage, and verify's text output after it.
 */
extern const char *const gfsb_report_damage_advice[];

/* A stage of the job (backup, forget, prune, sync, verify, ...). */
struct gfsb_report_stage {
	char *name;			/* "verify" */
	enum gfsb_report_status status;
	char *summary;			/* one line: what it did or why it failed */
};

/* A kept snapshot, for the GFS timeline. */
struct gfsb_report_snap {
	struct gfsb_time time;
	unsigned roles;	/* GFSB_ROLE_* bits from gfs.h; 0 = kept by no rule */
	char id[9];	/* short id */
	size_t group;	/* its retention group: an index into groups */
};

/* A host that backs up into the repository (the fleet). */
struct gfsb_report_host {
	char *name;
	struct gfsb_time last;	/* its newest snapshot */
	size_t snapshots;	/* held */
	int stale;		/* its newest is older than a night and more */
};

/* One night in the 30-day chart.  Unknown values are -1. */
struct gfsb_report_day {
	struct gfsb_time day;	/* local midnight that starts the day */
	int64_t repo_size;	/* bytes stored at the end of that day */
	int64_t new_data;	/* bytes the night's backups added (packed) */
};

#define GFSB_REPORT_DAYS 30

/* Offsite copy state. */
enum gfsb_report_offsite {
	GFSB_OFFSITE_NONE = 0,	/* no offsite copy configured */
	GFSB_OFFSITE_IN_SYNC,	/* the mirror holds everything */
	GFSB_OFFSITE_BEHIND,	/* objects/bytes not yet copied */
	GFSB_OFFSITE_UNKNOWN	/* could not be checked: see offsite_error */
};

/*
 * The last restore drill (verify --drill): a random sample of the newest
 * snapshot restored from the offsite copy into a scratch directory and
 * checked file by file.  Its rate projects how long restoring the whole
 * snapshot from there would take.
 */
struct gfsb_report_drill {
	int has;			/* 0: no drill recorded */
	int ran;			/* it ran in this job (else: an earlier one) */
	struct gfsb_time when;		/* when it ran */
	char snapshot[9];		/* the snapshot sampled (short id) */
	char *repo;			/* where it restored from */
	uint64_t files, bytes;		/* the sample restored */
	uint64_t total_files, total_bytes; /* the whole snapshot */
	double seconds;			/* the sample's restore and checks */
	double rate;			/* bytes per second */
	double projected;		/* seconds to restore the whole snapshot */
	uint64_t failed;		/* files not restored intact */
	char **failed_files;		/* "PATH: why", at most a few */
	size_t nfailed_files;
	double rto;			/* recovery-time objective, s; 0: none */
};

struct gfsb_report {
	enum gfsb_report_status status; /* overall: the worst of all below */
	char *host;			/* the machine the report is about */
	char *repo;			/* repository URL (no credentials) */
	struct gfsb_time now;		/* when the report was made */

	/* The newest snapshot (has_backup 0: there is none). */
	int has_backup;
	char backup_id[9];
	char backup_writer[9];	/* the write-only key that wrote it; "" */
	struct gfsb_time backup_time;
	double backup_seconds;		/* how long it ran; < 0 unknown */
	uint64_t files_total, files_new, files_changed;
	uint64_t bytes_total;		/* bytes processed */
	uint64_t data_added;		/* new plaintext after dedup */
	uint64_t data_stored;		/* what it took in packs (compressed) */
	uint64_t backup_warnings;	/* files that could not be read */

	/* Retention.  policy NULL: no policy known (the GFS table then
	 * shows only totals).  snaps: every snapshot held, oldest first. */
	char *policy;			/* one-line description */
	struct gfsb_report_snap *snaps;
	size_t nsnaps;
	/* The groups the policy is applied to one by one (same host and
	 * paths), each as "HOST: PATH PATH"; the report shows each apart
	 * when there are several. */
	char **groups;
	size_t ngroups;
	/* Every host with snapshots, by name; the report shows them (the
	 * fleet) when there are several. */
	struct gfsb_report_host *hosts;
	size_t nhosts;
	int retention_ran;		/* forget ran in this job */
	uint64_t snapshots_removed;
	int prune_ran;			/* prune ran in this job */
	uint64_t packs_freed, bytes_freed;
	uint64_t repo_size;		/* bytes stored now */

	/* Offsite. */
	enum gfsb_report_offsite offsite;
	char *offsite_repo;
	uint64_t behind_objects, behind_bytes;
	char *offsite_error;
	struct gfsb_time offsite_synced; /* last held everything; sec 0:
					    not known */

	/* Verification.  verify_ran 0: no verification in this job. */
	int verify_ran;
	uint64_t packs_total, packs_read, bytes_read;
	char *read_mode;		/* "rotate/7 (slice 3)", "all", ... */
	int64_t days_since_all_read;	/* -1: some pack was never read */
	uint64_t packs_never_read;
	uint64_t packs_overdue;		/* rotate/T: their night passed */

	/* The last restore drill, and the recovery-time objective. */
	struct gfsb_report_drill drill;

	/* Damage found, one line each ("pack 3fa2...: SHA-256 mismatch",
	 * "snapshot 1a2b3c4d /etc/passwd: blob ... missing"). */
	char **damage;
	size_t ndamage;

	struct gfsb_report_stage *stages;
	size_t nstages;

	char **errors;
	size_t nerrors;
	char **warnings;
	size_t nwarnings;

	/* The last GFSB_REPORT_DAYS nights, oldest first. */
	struct gfsb_report_day days[GFSB_REPORT_DAYS];
};

/*
 * gfsb_report_init(r), gfsb_report_fini(r):
 * Make r empty (status OK, every count 0, every day unknown); free what r
 * owns.  Every char * in r is malloc'd and owned by r.
 */
void gfsb_report_init(struct gfsb_report *r);
void gfsb_report_fini(struct gfsb_report *r);

/*
 * gfsb_report_add_error(r, fmt, ...), gfsb_report_add_warning(r, fmt, ...),
 * gfsb_report_add_damage(r, fmt, ...):
 * Append one line and raise r->status to FAILED (errors, damage) or at
 * least WARNING (warnings).  GFSB_ENOMEM.
 */
gfsb_err gfsb_report_add_error(struct gfsb_report *r, const char *fmt, ...)
    GFSB_PRINTF(2, 3) GFSB_WUR;
gfsb_err gfsb_report_add_warning(struct gfsb_report *r, const char *fmt, ...)
    GFSB_PRINTF(2, 3) GFSB_WUR;
gfsb_err gfsb_report_add_damage(struct gfsb_report *r, const char *fmt, ...)
    GFSB_PRINTF(2, 3) GFSB_WUR;

/*
 * gfsb_report_add_stage(r, name, status, fmt, ...):
 * Append a stage outcome and raise r->status to at least status.
 */
gfsb_err gfsb_report_add_stage(struct gfsb_report *r, const char *name,
    enum gfsb_report_status status, const char *fmt, ...)
    GFSB_PRINTF(4, 5) GFSB_WUR;

/*
 * gfsb_report_subject(r, buf, len):
 * The mail subject: "[gfsbackup] STATUS host: repo" (UTF-8, unencoded).
 * Returns buf.
 */
char *gfsb_report_subject(const struct gfsb_report *r, char *buf, size_t len);

/*
 * gfsb_report_render_text(r, out), gfsb_report_render_html(r, out):
 * Append the rendering to out (UTF-8; the HTML is a complete document).
 * GFSB_ENOMEM.
 */
gfsb_err gfsb_report_render_text(const struct gfsb_report *r,
    struct gfsb_buf *out) GFSB_WUR;
gfsb_err gfsb_report_render_html(const struct gfsb_report *r,
    struct gfsb_buf *out) GFSB_WUR;

/* ---- mail ---- */

struct gfsb_mail_opts {
	const char *url;	   /* smtp://host[:port] or smtps://host[:port] */
	const char *from;	   /* envelope and header sender */
	const char *const *to;	   /* recipients */
	size_t nto;
	const char *user;	   /* AUTH user, NULL: no AUTH */
	const char *password_file; /* AUTH password (first line), 0600 */
	const char *cacert;	   /* CA bundle for TLS, NULL: system's */
	long timeout_s;		   /* whole transfer; 0: 60 s */
};

/*
 * gfsb_mail_send(ctx, o, subject, text, html):
 * Send one message: MIME multipart/alternative with a text/plain and a
 * text/html part (UTF-8, quoted-printable), a Date, a Message-ID and the
 * Subject encoded per RFC 2047 when it is not plain ASCII.  smtp:// uses
 * STARTTLS when the server offers it (and requires it when a password is
 * to be sent); smtps:// is TLS from the start; certificates are always
 * verified.  Addresses are bare local@domain (ASCII).  GFSB_EINVAL for bad
 * options (a URL with a user or password in it, a malformed address, a CR
 * or LF in the subject, sender or a recipient) or an unreadable or
 * group/world-readable password file, all found before connecting;
 * GFSB_ENET when the server cannot be reached, TLS fails or is required
 * but not offered, or the transfer fails; GFSB_EDENIED when it refuses
 * the login, the sender, every recipient or the message; GFSB_ECANCELED
 * when ctx is cancelled.  Recipients refused while others are accepted
 * are logged as warnings and the call succeeds.  The error detail names
 * the server (host:port) and what it said; it never contains the
 * password.  Thread-safe for distinct contexts.  docs/MAIL.md has more.
 */
gfsb_err gfsb_mail_send(struct gfsb_ctx *ctx, const struct gfsb_mail_opts *o,
    const char *subject, const char *text, const char *html) GFSB_WUR;

#endif /* !GFSBACKUP_REPORT_H */
