/*
 * The morning report, as the program assembles it: facts from the
 * repository (the newest backup, the GFS roles under a policy) and from
 * the offsite mirror, next to a verification's (gfsb_ops_report_verify:
 * the nightly history in the state file among them); then rendered,
 * saved, and mailed.  A report that cannot be mailed is still saved, and
 * the failure is said on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

#include "cli.h"
#include "cli_report.h"

/* A backup older than this is reported: the nightly job did not run. */
#define STALE_BACKUP_HOURS 30

int
cli_state_base(struct cli *c, const char *dir, char *base, size_t len)
{
	const char *env;

	if (dir != NULL && *dir != '\0')
		snprintf(base, len, "%s", dir);
	else if ((env = getenv("GFSBACKUP_STATE_DIR")) != NULL && *env)
		snprintf(base, len, "%s", env);
	else if ((env = getenv("STATE_DIRECTORY")) != NULL && *env)
		/* systemd's StateDirectory= (may list several: take the
		 * first) */
		snprintf(base, len, "%.*s", (int)strcspn(env, ":"), env);
	else if ((env = getenv("XDG_STATE_HOME")) != NULL && *env == '/')
		snprintf(base, len, "%s/gfsbackup", env);
	else if ((env = getenv("HOME")) != NULL && *env == '/')
		snprintf(base, len, "%s/.local/state/gfsbackup", env);
	else
		return cli_usage_error(c, "no state directory: set HOME or "
		    "give --state-dir");
	return EXIT_OK;
}

/* STATE/<repository id>/<what>-<location hash><ext>: one file per
 * repository and location (a mirror has the same repository id). */
static int
state_path(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, const char *what, const char *ext, char **out)
{
	char base[4096], hex[GFSB_ID_HEX];
	const char *loc;
	int rc;

	*out = NULL;
	if ((rc = cli_state_base(c, dir, base, sizeof(base))) != EXIT_OK)
		return rc;
	loc = gfsb_backend_location(be);
	gfsb_crypto_sha256_hex(loc, strlen(loc), hex);
	if (asprintf(out, "%s/%s/%s-%.16s%s", base, gfsb_repo_id(r), what, hex,
	    ext) < 0) {
		*out = NULL;
		return cli_fail(c, GFSB_ENOMEM);
	}
	return EXIT_OK;
}

int
cli_state_file_for(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out)
{
	/* A mirror's packs are read on their own days. */
	return state_path(c, dir, r, be, "verify", ".json", out);
}

int
cli_ledger_file(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out)
{
	return state_path(c, dir, r, be, "locks", ".bin", out);
}

int
cli_drill_file(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out)
{
	return state_path(c, dir, r, be, "drill", ".json", out);
}

static void
drill_progress(void *cookie, const struct gfsb_restore_progress *p)
{
	char line[256];

	gfsb_ops_restore_progress_line(p, line, sizeof(line));
	cli_progress(cookie, line);
}

int
cli_drill(struct cli *c, const char *dir, struct gfsb_backend *be,
    const struct gfsb_drill_opts *o, const struct gfsb_time *now,
    char **record, struct gfsb_drill_result *res, char *why, size_t len)
{
	struct gfsb_drill_opts ro = *o;
	gfsb_err e;
	int rc;

	memset(res, 0, sizeof(*res));
	snprintf(why, len, "no state directory");
	if ((rc = cli_drill_file(c, dir, c->r, be, record)) != EXIT_OK)
		return rc;
	if (cli_tty(c)) {
		ro.progress = drill_progress;
		ro.progress_cookie = c;
	}
	e = gfsb_ops_drill_copy(c->r, be, &ro, *record, now, res);
	cli_progress(c, NULL);
	if (e != GFSB_OK) {
		snprintf(why, len, "%s", *gfsb_ctx_errmsg(c->ctx) ?
		    gfsb_ctx_errmsg(c->ctx) : gfsb_strerror(e));
		rc = cli_fail(c, e);
		gfsb_ctx_clearerr(c->ctx);
		return rc;
	}
	return res->failed > 0 ? EXIT_FATAL : EXIT_OK;
}

int
cli_state_file(struct cli *c, const char *dir, char **out)
{
	return cli_state_file_for(c, dir, c->r, c->be, out);
}

static int
snapcmp(const void *a, const void *b)
{
	const struct gfsb_report_snap *x = a, *y = b;

	return gfsb_time_cmp(&x->time, &y->time);
}

/* The GFS roles of every snapshot under the policy (a dry-run forget). */
static gfsb_err
fill_gfs(struct cli *c, struct gfsb_report *rep, const struct gfsb_policy *pol,
    const struct gfsb_time *now)
{
	struct gfsb_forget_opts fo;
	struct gfsb_forget_result fr;
	struct gfsb_report_snap *s;
	char desc[512];
	size_t g, i, n = 0;
	gfsb_err e;

	memset(&fo, 0, sizeof(fo));
	fo.policy = pol;
	fo.group_by = GFSB_GROUP_HOST | GFSB_GROUP_PATHS;
	fo.dry_run = 1;
	fo.has_now = 1;
	fo.now = *now;
	e = gfsb_ops_forget(c->r, &fo, &fr);
	if (e != GFSB_OK && e != GFSB_EINVAL) {
		gfsb_ops_forget_fini(&fr);
		return e;
	}
	if ((rep->snaps = calloc(fr.nall ? fr.nall : 1, sizeof(*s))) == NULL) {
		gfsb_ops_forget_fini(&fr);
		return GFSB_ENOMEM;
	}
	for (g = 0; g < fr.ngroups; g++)
		for (i = 0; i < fr.groups[g].n; i++) {
			s = &rep->snaps[n++];
			s->time = fr.groups[g].snaps[i]->time;
			s->roles = fr.groups[g].dec[i].keep ?
			    fr.groups[g].dec[i].roles : 0;
			snprintf(s->id, sizeof(s->id), "%.8s",
			    fr.groups[g].snaps[i]->id);
		}
	rep->nsnaps = n;
	qsort(rep->snaps, n, sizeof(*rep->snaps), snapcmp);
	if (fr.nall > fr.kept &&
	    gfsb_report_add_warning(rep, "%zu snapshots are not kept by the "
	    "policy (forget has not removed them yet)", fr.nall - fr.kept) !=
	    GFSB_OK)
		e = GFSB_ENOMEM;
	gfsb_gfs_policy_describe(pol, desc, sizeof(desc));
	if ((rep->policy = strdup(desc)) == NULL)
		e = GFSB_ENOMEM;
	gfsb_ops_forget_fini(&fr);
	gfsb_ctx_clearerr(c->ctx);
	return e == GFSB_EINVAL ? GFSB_OK : e;
}

int
cli_report_fill_repo(struct cli *c, struct gfsb_report *rep,
    const struct gfsb_policy *pol, const struct gfsb_time *now)
{
	struct gfsb_snapshot **list = NULL, *s;
	char host[256];
	size_t n = 0, i;
	double age;
	gfsb_err e;

	rep->now = *now;
	gfsb_sys_hostname(host, sizeof(host));
	if ((rep->host = strdup(host)) == NULL ||
	    (rep->repo = strdup(c->repo != NULL ? c->repo :
	    gfsb_backend_location(c->be))) == NULL)
		return cli_fail(c, GFSB_ENOMEM);
	e = gfsb_repo_snapshot_list(c->r, &list, &n);
	if (e == GFSB_ENOMEM)
		return cli_fail(c, e);
	if (e != GFSB_OK) {
		e = gfsb_report_add_error(rep, "the snapshots cannot all be "
		    "read: %s", gfsb_ctx_errmsg(c->ctx));
		gfsb_ctx_clearerr(c->ctx);
		return e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
	}
	if (n == 0) {
		if (gfsb_report_add_warning(rep, "the repository holds no "
		    "snapshot") != GFSB_OK)
			e = GFSB_ENOMEM;
	} else {
		s = list[n - 1];
		rep->has_backup = 1;
		snprintf(rep->backup_id, sizeof(rep->backup_id), "%.8s", s->id);
		rep->backup_time = s->time;
		if (s->has_summary) {
			const struct gfsb_snapshot_summary *m = &s->summary;

			rep->backup_seconds = (double)(m->backup_end.sec -
			    m->backup_start.sec) + (m->backup_end.nsec -
			    m->backup_start.nsec) / 1e9;
			rep->files_total = m->total_files_processed;
			rep->files_new = m->files_new;
			rep->files_changed = m->files_changed;
			rep->bytes_total = m->total_bytes_processed;
			rep->data_added = m->data_added;
			rep->data_stored = m->data_added_packed;
			rep->backup_warnings = m->warnings;
			if (m->warnings > 0 && gfsb_report_add_warning(rep,
			    "the last backup could not read %llu files",
			    (unsigned long long)m->warnings) != GFSB_OK)
				e = GFSB_ENOMEM;
		}
		age = (double)(now->sec - s->time.sec) / 3600.0;
		if (age > STALE_BACKUP_HOURS && gfsb_report_add_warning(rep,
		    "the last backup is %.0f hours old: the nightly job did "
		    "not run or did not finish", age) != GFSB_OK)
			e = GFSB_ENOMEM;
	}
	if (e == GFSB_OK && pol != NULL) {
		e = fill_gfs(c, rep, pol, now);
	} else if (e == GFSB_OK && n > 0) {
		if ((rep->snaps = calloc(n, sizeof(*rep->snaps))) == NULL)
			e = GFSB_ENOMEM;
		for (i = 0; e == GFSB_OK && i < n; i++) {
			rep->snaps[i].time = list[i]->time;
			snprintf(rep->snaps[i].id, sizeof(rep->snaps[i].id),
			    "%.8s", list[i]->id);
		}
		rep->nsnaps = e == GFSB_OK ? n : 0;
	}
	gfsb_repo_snapshot_list_free(list, n);
	if (e != GFSB_OK && e != GFSB_ENOMEM) {
		/* The GFS table is a convenience; its failure is said. */
		e = gfsb_report_add_error(rep, "retention roles unavailable: "
		    "%s", gfsb_ctx_errmsg(c->ctx));
		gfsb_ctx_clearerr(c->ctx);
	}
	return e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
}

int
cli_report_fill_offsite(struct cli *c, struct gfsb_report *rep,
    const char *url)
{
	struct gfsb_backend *dst = NULL;
	struct gfsb_sync_opts so;
	struct gfsb_sync_result sr;
	gfsb_err e;
	int rc;

	if ((rep->offsite_repo = strdup(url)) == NULL)
		return cli_fail(c, GFSB_ENOMEM);
	if ((rc = cli_open_url(c, url, &dst)) != EXIT_OK)
		return rc;
	memset(&so, 0, sizeof(so));
	so.dry_run = 1;
	so.threads = c->remote.connections > 0 ?
	    (unsigned)c->remote.connections : 4;
	e = gfsb_ops_sync(c->r, dst, &so, &sr);
	gfsb_backend_close(dst);
	if (e == GFSB_ENOMEM)
		return cli_fail(c, e);
	if (e != GFSB_OK) {
		rep->offsite = GFSB_OFFSITE_UNKNOWN;
		if ((rep->offsite_error = strdup(*gfsb_ctx_errmsg(c->ctx) ?
		    gfsb_ctx_errmsg(c->ctx) : gfsb_strerror(e))) == NULL ||
		    gfsb_report_add_error(rep, "offsite copy %s cannot be "
		    "checked: %s", url, rep->offsite_error) != GFSB_OK)
			return cli_fail(c, GFSB_ENOMEM);
		gfsb_ctx_clearerr(c->ctx);
		return EXIT_OK;
	}
	rep->behind_objects = sr.copied;
	rep->behind_bytes = sr.copied_bytes;
	rep->offsite = sr.copied == 0 && sr.deleted == 0 ?
	    GFSB_OFFSITE_IN_SYNC : GFSB_OFFSITE_BEHIND;
	if (rep->offsite == GFSB_OFFSITE_BEHIND) {
		char b[32];

		gfsb_size_format(sr.copied_bytes, b, sizeof(b));
		if (gfsb_report_add_warning(rep, "the offsite copy is behind: "
		    "%llu objects (%s) to copy, %llu to delete",
		    (unsigned long long)sr.copied, b,
		    (unsigned long long)sr.deleted) != GFSB_OK)
			return cli_fail(c, GFSB_ENOMEM);
	}
	return EXIT_OK;
}

/* Write a whole file, mode 0600, through a temporary name. */
static int
save(const char *path, const struct gfsb_buf *b)
{
	char tmp[4200];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0)
		return errno;
	if (gfsb_sys_write_full(fd, b->data, b->len) != 0 || fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && err == 0)
		err = errno;
	if (err == 0 && rename(tmp, path) != 0)
		err = errno;
	if (err != 0)
		unlink(tmp);
	return err;
}

/* The number in the len digits at p, or -1 if they are not all digits. */
static int
digits(const char *p, int len)
{
	int v = 0;

	for (; len > 0; len--, p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

/*
 * The time a saved report's name gives (report-YYYY-MM-DD-HHMMSS.txt or
 * .html, local time), or -1 for a name that is not exactly that.
 */
static time_t
report_name_time(const char *name)
{
	struct tm tm;

	if (strlen(name) < 24 || strncmp(name, "report-", 7) != 0 ||
	    name[11] != '-' || name[14] != '-' || name[17] != '-' ||
	    (strcmp(name + 24, ".txt") != 0 &&
	    strcmp(name + 24, ".html") != 0))
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((tm.tm_year = digits(name + 7, 4)) < 0 ||
	    (tm.tm_mon = digits(name + 12, 2)) < 0 ||
	    (tm.tm_mday = digits(name + 15, 2)) < 0 ||
	    (tm.tm_hour = digits(name + 18, 2)) < 0 ||
	    (tm.tm_min = digits(name + 20, 2)) < 0 ||
	    (tm.tm_sec = digits(name + 22, 2)) < 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* Remove the saved reports dated more than keep_days before now. */
static void
prune_reports(struct cli *c, const char *dir, time_t now, unsigned keep_days)
{
	struct dirent *de;
	struct tm tm;
	time_t cutoff, t;
	DIR *d;

	if (keep_days == 0 || (d = opendir(dir)) == NULL)
		return;
	/* Calendar days, as the names are dated: the same local time
	 * keep_days days back, whatever daylight saving did between. */
	localtime_r(&now, &tm);
	tm.tm_mday -= (int)keep_days;
	tm.tm_isdst = -1;
	cutoff = mktime(&tm);
	while ((de = readdir(d)) != NULL) {
		if ((t = report_name_time(de->d_name)) == -1 || t >= cutoff)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT)
			cli_msg(c, "%s: cannot remove the old report %s/%s: %s",
			    c->prog, dir, de->d_name, strerror(errno));
	}
	closedir(d);
}

int
cli_report_deliver(struct cli *c, const struct gfsb_report *rep,
    const struct cli_mail *m, const char *dir, unsigned keep_days)
{
	struct gfsb_buf text, html;
	struct gfsb_mail_opts mo;
	char subject[1024], stamp[32], path[4096];
	time_t tt = (time_t)rep->now.sec;
	struct tm tm;
	gfsb_err e;
	int rc = EXIT_OK, err, send;

	gfsb_buf_init(&text);
	gfsb_buf_init(&html);
	if ((e = gfsb_report_render_text(rep, &text)) != GFSB_OK ||
	    (e = gfsb_buf_append(&text, "", 1)) != GFSB_OK ||
	    (e = gfsb_report_render_html(rep, &html)) != GFSB_OK ||
	    (e = gfsb_buf_append(&html, "", 1)) != GFSB_OK) {
		rc = cli_fail(c, e);
		goto out;
	}
	gfsb_report_subject(rep, subject, sizeof(subject));
	if (dir != NULL) {
		localtime_r(&tt, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d-%H%M%S", &tm);
		if ((err = gfsb_sys_mkdirs(dir)) != 0) {
			cli_msg(c, "%s: cannot create the report directory "
			    "%s: %s", c->prog, dir, strerror(err));
			rc = EXIT_FATAL;
		}
		text.len--;
		html.len--;
		snprintf(path, sizeof(path), "%s/report-%s.txt", dir, stamp);
		if (rc == EXIT_OK && (err = save(path, &text)) != 0) {
			cli_msg(c, "%s: cannot save the report %s: %s",
			    c->prog, path, strerror(err));
			rc = EXIT_FATAL;
		}
		snprintf(path, sizeof(path), "%s/report-%s.html", dir, stamp);
		if (rc == EXIT_OK && (err = save(path, &html)) != 0) {
			cli_msg(c, "%s: cannot save the report %s: %s",
			    c->prog, path, strerror(err));
			rc = EXIT_FATAL;
		}
		text.len++;
		html.len++;
		if (rc == EXIT_OK && c->verbose)
			cli_msg(c, "report saved as %s/report-%s.{txt,html}",
			    dir, stamp);
		if (rc == EXIT_OK)
			prune_reports(c, dir, tt, keep_days);
	}
	send = m != NULL && m->url != NULL &&
	    (!m->failures_only || rep->status != GFSB_REPORT_OK);
	if (!send)
		goto out;
	memset(&mo, 0, sizeof(mo));
	mo.url = m->url;
	mo.from = m->from;
	mo.to = m->to;
	mo.nto = m->nto;
	mo.user = m->user;
	mo.password_file = m->password_file;
	mo.cacert = m->cacert;
	e = gfsb_mail_send(c->ctx, &mo, subject, (const char *)text.data,
	    (const char *)html.data);
	if (e != GFSB_OK) {
		cli_msg(c, "%s: the report was not mailed: %s%s%s", c->prog,
		    *gfsb_ctx_errmsg(c->ctx) ? gfsb_ctx_errmsg(c->ctx) :
		    gfsb_strerror(e), dir != NULL ? "; it is kept in " : "",
		    dir != NULL ? dir : "");
		gfsb_ctx_clearerr(c->ctx);
		rc = EXIT_FATAL;
	}
out:
	gfsb_buf_fini(&text);
	gfsb_buf_fini(&html);
	return rc;
}
