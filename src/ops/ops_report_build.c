/*
 * The morning report, assembled: facts from the repository (the newest
 * backup, the GFS roles under a policy) and from the offsite mirror, next
 * to a verification's (gfsb_ops_report_verify, ops_report.c: the nightly
 * history in the state file among them); then rendered, saved, and
 * mailed.  A report that cannot be mailed is still saved.  Also the
 * state directory's layout, which the verification history, the Object
 * Lock ledgers and the drill records share.
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

/* A backup older than this is reported: the nightly job did not run. */
#define STALE_BACKUP_HOURS 30

gfsb_err
gfsb_ops_state_base(struct gfsb_ctx *ctx, const char *dir, char *base,
    size_t len)
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
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "no state directory: "
		    "set HOME or GFSBACKUP_STATE_DIR, or give one");
	return GFSB_OK;
}

/* STATE/<repository id>/<what>-<location hash><ext>: one file per
 * repository and location (a mirror has the same repository id). */
gfsb_err
gfsb_ops_state_file(struct gfsb_ctx *ctx, const char *dir,
    struct gfsb_repo *r, struct gfsb_backend *be, enum gfsb_state_kind kind,
    char **out)
{
	static const char *const what[] = { "verify", "locks", "drill" };
	static const char *const ext[] = { ".json", ".bin", ".json" };
	char base[4096], hex[GFSB_ID_HEX];
	const char *loc;
	gfsb_err e;

	*out = NULL;
	if ((unsigned)kind > GFSB_STATE_DRILL)
		return GFSB_EINVAL;
	if ((e = gfsb_ops_state_base(ctx, dir, base, sizeof(base))) !=
	    GFSB_OK)
		return e;
	loc = gfsb_backend_location(be);
	gfsb_crypto_sha256_hex(loc, strlen(loc), hex);
	if (asprintf(out, "%s/%s/%s-%.16s%s", base, gfsb_repo_id(r),
	    what[kind], hex, ext[kind]) < 0) {
		*out = NULL;
		return GFSB_ENOMEM;
	}
	return GFSB_OK;
}

static int
snapcmp(const void *a, const void *b)
{
	const struct gfsb_report_snap *x = a, *y = b;

	return gfsb_time_cmp(&x->time, &y->time);
}

/* The retention groups' names: "HOST: PATH PATH". */
static gfsb_err
fill_groups(struct gfsb_report *rep, const struct gfsb_forget_result *fr)
{
	const struct gfsb_snapshot *s;
	char name[512];
	size_t g, k, n;

	if (fr->ngroups == 0)
		return GFSB_OK;
	if ((rep->groups = calloc(fr->ngroups, sizeof(*rep->groups))) == NULL)
		return GFSB_ENOMEM;
	for (g = 0; g < fr->ngroups; g++) {
		s = fr->groups[g].snaps[0];
		n = (size_t)snprintf(name, sizeof(name), "%s:", s->hostname);
		for (k = 0; k < s->npaths && n < sizeof(name); k++)
			n += (size_t)snprintf(name + n, sizeof(name) - n,
			    " %s", s->paths[k]);
		if ((rep->groups[g] = strdup(name)) == NULL)
			return GFSB_ENOMEM;
		rep->ngroups = g + 1;
	}
	return GFSB_OK;
}

/* The GFS roles of every snapshot under the policy (a dry-run forget). */
static gfsb_err
fill_gfs(struct gfsb_repo *r, struct gfsb_report *rep,
    const struct gfsb_policy *pol, const struct gfsb_time *now)
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
	e = gfsb_ops_forget(r, &fo, &fr);
	if (e != GFSB_OK && e != GFSB_EINVAL) {
		gfsb_ops_forget_fini(&fr);
		return e;
	}
	if ((rep->snaps = calloc(fr.nall ? fr.nall : 1, sizeof(*s))) == NULL) {
		gfsb_ops_forget_fini(&fr);
		return GFSB_ENOMEM;
	}
	if ((e = fill_groups(rep, &fr)) != GFSB_OK) {
		gfsb_ops_forget_fini(&fr);
		return e;
	}
	for (g = 0; g < fr.ngroups; g++)
		for (i = 0; i < fr.groups[g].n; i++) {
			s = &rep->snaps[n++];
			s->group = g;
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
	gfsb_ctx_clearerr(gfsb_repo_ctx(r));
	return e == GFSB_EINVAL ? GFSB_OK : e;
}

static int
hostcmp(const void *a, const void *b)
{
	return strcmp(((const struct gfsb_report_host *)a)->name,
	    ((const struct gfsb_report_host *)b)->name);
}

/* The fleet: each host's newest snapshot and count, by name; a host whose
 * newest is stale is a warning (it stopped backing up). */
static gfsb_err
fill_hosts(struct gfsb_report *rep, struct gfsb_snapshot *const *list,
    size_t n, const struct gfsb_time *now)
{
	struct gfsb_report_host *h;
	char when[64];
	size_t i, k;

	if (n == 0)
		return GFSB_OK;
	if ((rep->hosts = calloc(n, sizeof(*rep->hosts))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < n; i++) {
		for (k = 0; k < rep->nhosts &&
		    strcmp(rep->hosts[k].name, list[i]->hostname) != 0; k++)
			;
		h = &rep->hosts[k];
		if (k == rep->nhosts) {
			if ((h->name = strdup(list[i]->hostname)) == NULL)
				return GFSB_ENOMEM;
			rep->nhosts++;
			h->last = list[i]->time;
		}
		if (gfsb_time_cmp(&list[i]->time, &h->last) > 0)
			h->last = list[i]->time;
		h->snapshots++;
	}
	qsort(rep->hosts, rep->nhosts, sizeof(*rep->hosts), hostcmp);
	for (i = 0; i < rep->nhosts && rep->nhosts > 1; i++) {
		h = &rep->hosts[i];
		if ((double)(now->sec - h->last.sec) / 3600.0 <=
		    STALE_BACKUP_HOURS)
			continue;
		h->stale = 1;
		gfsb_time_format_local(&h->last, when, sizeof(when));
		if (gfsb_report_add_warning(rep, "host %s has not backed up "
		    "since %s (%.0f hours): its nightly job did not run or did "
		    "not finish", h->name, when, (double)(now->sec -
		    h->last.sec) / 3600.0) != GFSB_OK)
			return GFSB_ENOMEM;
	}
	return GFSB_OK;
}

/* The last backup the report is about: this host's newest snapshot, or
 * the newest of all when this host has none (a verifier elsewhere). */
static const struct gfsb_snapshot *
last_of(struct gfsb_snapshot *const *list, size_t n, const char *host)
{
	size_t i;

	for (i = n; i-- > 0;)
		if (strcmp(list[i]->hostname, host) == 0)
			return list[i];
	return list[n - 1];
}

gfsb_err
gfsb_ops_report_fill_repo(struct gfsb_repo *r, struct gfsb_report *rep,
    const char *name, const struct gfsb_policy *pol,
    const struct gfsb_time *now)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	struct gfsb_snapshot **list = NULL;
	const struct gfsb_snapshot *s;
	char host[256];
	size_t n = 0, i;
	double age;
	gfsb_err e;

	rep->now = *now;
	gfsb_sys_hostname(host, sizeof(host));
	if ((rep->host = strdup(host)) == NULL ||
	    (rep->repo = strdup(name != NULL ? name :
	    gfsb_backend_location(gfsb_repo_backend(r)))) == NULL)
		return GFSB_ENOMEM;
	/* A write-only key knows its own snapshots, from its cache. */
	e = gfsb_repo_write_only(r) ? gfsb_repo_writer_snapshots(r, &list, &n) :
	    gfsb_repo_snapshot_list(r, &list, &n);
	if (e == GFSB_ENOMEM)
		return e;
	if (e != GFSB_OK) {
		e = gfsb_report_add_error(rep, "the snapshots cannot all be "
		    "read: %s", gfsb_ctx_errmsg(ctx));
		gfsb_ctx_clearerr(ctx);
		return e;
	}
	if (n == 0) {
		if (gfsb_report_add_warning(rep, "the repository holds no "
		    "snapshot") != GFSB_OK)
			e = GFSB_ENOMEM;
	} else {
		s = last_of(list, n, rep->host);
		rep->has_backup = 1;
		snprintf(rep->backup_id, sizeof(rep->backup_id), "%.8s", s->id);
		snprintf(rep->backup_writer, sizeof(rep->backup_writer),
		    "%.8s", s->writer);
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
	if (e == GFSB_OK)
		e = fill_hosts(rep, list, n, now);
	if (e == GFSB_OK && pol != NULL && !gfsb_repo_write_only(r)) {
		e = fill_gfs(r, rep, pol, now);
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
		    "%s", gfsb_ctx_errmsg(ctx));
		gfsb_ctx_clearerr(ctx);
	}
	return e;
}

gfsb_err
gfsb_ops_report_fill_offsite(struct gfsb_repo *r, struct gfsb_report *rep,
    struct gfsb_backend *dst, const char *url, unsigned threads)
{
	struct gfsb_ctx *ctx = gfsb_repo_ctx(r);
	struct gfsb_sync_opts so;
	struct gfsb_sync_result sr;
	gfsb_err e;

	if ((rep->offsite_repo = strdup(url)) == NULL)
		return GFSB_ENOMEM;
	memset(&so, 0, sizeof(so));
	so.dry_run = 1;
	so.threads = threads;
	e = gfsb_ops_sync(r, dst, &so, &sr);
	if (e == GFSB_ENOMEM)
		return e;
	if (e != GFSB_OK) {
		rep->offsite = GFSB_OFFSITE_UNKNOWN;
		if ((rep->offsite_error = strdup(*gfsb_ctx_errmsg(ctx) ?
		    gfsb_ctx_errmsg(ctx) : gfsb_strerror(e))) == NULL ||
		    gfsb_report_add_error(rep, "offsite copy %s cannot be "
		    "checked: %s", url, rep->offsite_error) != GFSB_OK)
			return GFSB_ENOMEM;
		gfsb_ctx_clearerr(ctx);
		return GFSB_OK;
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
			return GFSB_ENOMEM;
	}
	return GFSB_OK;
}

/* Write a whole file, mode 0600, through a temporary name. */
static int
save(const char *path, const struct gfsb_buf *b)
{
	char tmp[4300];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return ENAMETOOLONG;
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
prune_reports(struct gfsb_ctx *ctx, const char *dir, time_t now,
    unsigned keep_days)
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
			gfsb_ctx_log(ctx, GFSB_LOG_WARN, "cannot remove the "
			    "old report %s/%s: %s", dir, de->d_name,
			    strerror(errno));
	}
	closedir(d);
}

/* The report's two renderings saved as dir/report-<local time>.{txt,html}
 * (the texts are NUL-terminated: the NULs are not saved). */
static gfsb_err
save_both(struct gfsb_ctx *ctx, const struct gfsb_report *rep,
    const char *dir, const struct gfsb_buf *text, const struct gfsb_buf *html)
{
	const struct gfsb_buf *b[2] = { text, html };
	static const char *const ext[2] = { "txt", "html" };
	char stamp[32], path[4200];
	struct gfsb_buf v;
	time_t tt = (time_t)rep->now.sec;
	struct tm tm;
	int err, i;

	localtime_r(&tt, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d-%H%M%S", &tm);
	if ((err = gfsb_sys_mkdirs(dir)) != 0)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot create the "
		    "report directory %s: %s", dir, strerror(err));
	for (i = 0; i < 2; i++) {
		v = *b[i];
		v.len--;
		if (snprintf(path, sizeof(path), "%s/report-%s.%s", dir, stamp,
		    ext[i]) >= (int)sizeof(path))
			err = ENAMETOOLONG;
		else
			err = save(path, &v);
		if (err != 0)
			return gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot save the "
			    "report %s: %s", path, strerror(err));
	}
	gfsb_ctx_log(ctx, GFSB_LOG_INFO, "report saved as "
	    "%s/report-%s.{txt,html}", dir, stamp);
	return GFSB_OK;
}

gfsb_err
gfsb_ops_report_deliver(struct gfsb_ctx *ctx, const struct gfsb_report *rep,
    const struct gfsb_report_delivery *d)
{
	struct gfsb_buf text, html;
	char subject[1024], saved[1024] = "", why[1024];
	gfsb_err e, es = GFSB_OK;

	gfsb_buf_init(&text);
	gfsb_buf_init(&html);
	if ((e = gfsb_report_render_text(rep, &text)) != GFSB_OK ||
	    (e = gfsb_buf_append(&text, "", 1)) != GFSB_OK ||
	    (e = gfsb_report_render_html(rep, &html)) != GFSB_OK ||
	    (e = gfsb_buf_append(&html, "", 1)) != GFSB_OK)
		goto out;
	gfsb_report_subject(rep, subject, sizeof(subject));
	if (d->dir != NULL) {
		if ((es = save_both(ctx, rep, d->dir, &text, &html)) ==
		    GFSB_OK)
			prune_reports(ctx, d->dir, (time_t)rep->now.sec,
			    d->keep_days);
		else
			snprintf(saved, sizeof(saved), "%s",
			    gfsb_ctx_errmsg(ctx));
	}
	if (d->mail == NULL || d->mail->url == NULL ||
	    (d->failures_only && rep->status == GFSB_REPORT_OK)) {
		e = es;
		goto out;
	}
	gfsb_ctx_clearerr(ctx);
	if ((e = gfsb_mail_send(ctx, d->mail, subject,
	    (const char *)text.data, (const char *)html.data)) != GFSB_OK) {
		/* Both failed: the first is said here, the second returned. */
		snprintf(why, sizeof(why), "%s", *gfsb_ctx_errmsg(ctx) ?
		    gfsb_ctx_errmsg(ctx) : gfsb_strerror(e));
		if (es != GFSB_OK)
			gfsb_ctx_log(ctx, GFSB_LOG_ERROR, "%s", saved);
		gfsb_ctx_clearerr(ctx);
		gfsb_ctx_seterr(ctx, e, "the report was not mailed: %s%s%s",
		    why, d->dir != NULL && es == GFSB_OK ? "; it is kept in " :
		    "", d->dir != NULL && es == GFSB_OK ? d->dir : "");
	} else if (es != GFSB_OK) {
		gfsb_ctx_clearerr(ctx);
		e = gfsb_ctx_seterr(ctx, es, "%s", saved);
	}
out:
	gfsb_buf_fini(&text);
	gfsb_buf_fini(&html);
	return e;
}
