/*
 * The report as the program builds it (shared by verify and run).
 */
#ifndef GFSB_CLI_REPORT_H
#define GFSB_CLI_REPORT_H

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

struct cli;
struct gfsb_repo;
struct gfsb_backend;

/* Where and to whom the report is mailed (url NULL: not mailed). */
struct cli_mail {
	const char *url;
	const char *from;
	const char *const *to;
	size_t nto;
	const char *user;
	const char *password_file;
	const char *cacert;
	int failures_only; /* send only reports that are not OK */
};

/*
 * cli_state_file(c, dir, out):
 * The verification state file of the open repository at its location:
 * DIR/<repository id>/verify-<location hash>.json, DIR being dir, else
 * $GFSBACKUP_STATE_DIR, $STATE_DIRECTORY (systemd), $XDG_STATE_HOME/
 * gfsbackup or ~/.local/state/gfsbackup.  *out is malloc'd.  Exit status.
 */
int cli_state_file(struct cli *c, const char *dir, char **out);

/* The same for repository r at backend be (an offsite mirror). */
int cli_state_file_for(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out);

/* The state directory itself (dir, or the default); exit status. */
int cli_state_base(struct cli *c, const char *dir, char *base, size_t len);
/* The ledger of the Object Lock dates set on the copy of r at be. */
int cli_ledger_file(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out);

/* The record of the restore drills of the copy of r at be. */
int cli_drill_file(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out);

/*
 * cli_drill(c, dir, be, o, now, record, res, why, len):
 * The restore drill (gfsb_ops_drill) on the copy of the open repository
 * at be, read as a new server would read it (a new, empty cache).
 * Recorded in its drill file (*record, malloc'd).
 * EXIT_OK; EXIT_FATAL when files failed; another status when it could not
 * run, with why it could not in why.
 */
int cli_drill(struct cli *c, const char *dir, struct gfsb_backend *be,
    const struct gfsb_drill_opts *o, const struct gfsb_time *now,
    char **record, struct gfsb_drill_result *res, char *why, size_t len);

/* Fill the report's host, repository, newest backup and GFS roles (under
 * pol, which may be NULL).  Exit status. */
int cli_report_fill_repo(struct cli *c, struct gfsb_report *rep,
    const struct gfsb_policy *pol, const struct gfsb_time *now);

/* Compare the repository with its offsite mirror at url.  Exit status. */
int cli_report_fill_offsite(struct cli *c, struct gfsb_report *rep,
    const char *url);

/*
 * cli_report_deliver(c, rep, m, dir, keep_days):
 * Render the report; save it as dir/report-<time>.{txt,html} (dir NULL:
 * not saved); mail it when m says so.  A failure to save or to send is
 * said on stderr and gives EXIT_FATAL; the saved files stay.  Once this
 * report is saved, the reports in dir whose name dates them more than
 * keep_days days before this one are removed (keep_days 0: none; files
 * not named exactly like a report are never touched).
 */
int cli_report_deliver(struct cli *c, const struct gfsb_report *rep,
    const struct cli_mail *m, const char *dir, unsigned keep_days);

#endif
