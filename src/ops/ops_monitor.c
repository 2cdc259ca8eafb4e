/*
 * Watching the daily job from outside it: a dead-man's switch pinged the
 * Healthchecks way (URL/start when the job starts, URL when it ends
 * well, URL/fail with the first error line when not; retried, never
 * failing the job), and a metrics file in Prometheus's text exposition
 * format for node_exporter's textfile collector, written whole or not at
 * all (a temporary file renamed over it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

#define PING_TRIES 3
#define PING_TIMEOUT 10L	/* seconds, each try */

static size_t
discard(char *p, size_t size, size_t n, void *cookie)
{
	(void)p;
	(void)cookie;
	return size * n;
}

/* One request: 0 for a 2xx answer; else -1 with why in err. */
static int
ping_once(const char *url, const char *body, char *err, size_t len)
{
	char cerr[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;
	CURL *h;

	if ((h = curl_easy_init()) == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, PING_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gfsbackup/" GFSB_VERSION);
	if (body != NULL)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK)
		snprintf(err, len, "%s", *cerr ? cerr : curl_easy_strerror(rc));
	else if (code < 200 || code > 299)
		snprintf(err, len, "HTTP %ld", code);
	else
		return 0;
	return -1;
}

gfsb_err
gfsb_ops_monitor_ping(struct gfsb_ctx *ctx, const char *url,
    enum gfsb_ping what, const char *body)
{
	static const char *const suffix[] = { "/start", "", "/fail" };
	char *full = NULL, err[CURL_ERROR_SIZE + 32] = "";
	unsigned i;
	int ok = -1;

	if (!gfsb_curl_init())
		return gfsb_ctx_seterr(ctx, GFSB_ENOMEM, "ping: libcurl could "
		    "not start");
	if (asprintf(&full, "%s%s", url, suffix[what]) < 0)
		return GFSB_ENOMEM;
	for (i = 0; i < PING_TRIES && ok != 0; i++) {
		if (i > 0)
			sleep(i);	/* 1 s, then 2 s */
		ok = ping_once(full, what == GFSB_PING_FAIL ? (body != NULL ?
		    body : "") : NULL, err, sizeof(err));
	}
	if (ok != 0)
		gfsb_ctx_seterr(ctx, GFSB_ENET, "ping %s: %s (%u tries)", full,
		    err, PING_TRIES);
	free(full);
	return ok == 0 ? GFSB_OK : GFSB_ENET;
}

/* ---- the metrics file ---- */

struct prom {
	struct gfsb_buf b;
	char host[300];	/* host="..." escaped */
	gfsb_err err;
};

static void
add(struct prom *p, const char *fmt, ...) GFSB_PRINTF(2, 3);

static void
add(struct prom *p, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (p->err == GFSB_OK && (n < 0 || (size_t)n >= sizeof(line)))
		p->err = GFSB_EINVAL;
	if (p->err == GFSB_OK)
		p->err = gfsb_buf_append(&p->b, line, (size_t)n);
}

/* A metric's HELP and TYPE, then its sample (labels: the host's, and
 * extra, "" or ",stage=\"backup\""). */
static void
metric(struct prom *p, const char *name, const char *help, double v)
{
	add(p, "# HELP gfsbackup_%s %s\n# TYPE gfsbackup_%s gauge\n"
	    "gfsbackup_%s{%s} %.17g\n", name, help, name, name, p->host, v);
}

static void
head(struct prom *p, const char *name, const char *help)
{
	add(p, "# HELP gfsbackup_%s %s\n# TYPE gfsbackup_%s gauge\n", name,
	    help, name);
}

static void
sample(struct prom *p, const char *name, const char *label,
    const char *value, double v)
{
	add(p, "gfsbackup_%s{%s,%s=\"%s\"} %.17g\n", name, p->host, label,
	    value, v);
}

/* host="..." with \, " and newlines escaped, as the format asks. */
static void
host_label(struct prom *p, const char *host)
{
	size_t o = 0;

	o += (size_t)snprintf(p->host, sizeof(p->host), "host=\"");
	for (; *host != '\0' && o + 4 < sizeof(p->host); host++) {
		if (*host == '\\' || *host == '"' || *host == '\n')
			p->host[o++] = '\\';
		p->host[o++] = *host == '\n' ? 'n' : *host;
	}
	snprintf(p->host + o, sizeof(p->host) - o, "\"");
}

/* The job's stages: how long each took, and whether it failed. */
static void
stages(struct prom *p, const struct gfsb_run_result *res)
{
	size_t i;

	head(p, "stage_duration_seconds", "How long each stage of the last "
	    "run took.");
	for (i = 0; i < res->nstages; i++)
		sample(p, "stage_duration_seconds", "stage",
		    res->stages[i].name, res->stages[i].seconds);
	head(p, "stage_failed", "1 when the stage failed in the last run.");
	for (i = 0; i < res->nstages; i++)
		sample(p, "stage_failed", "stage", res->stages[i].name,
		    res->stages[i].err != GFSB_OK);
}

/* Snapshots held, per GFS role (one may hold several), and in all. */
static void
roles(struct prom *p, const struct gfsb_report *rep)
{
	static const char *const name[] = { "last", "hourly", "daily",
	    "weekly", "monthly", "yearly" };
	size_t i;
	int r;
	unsigned n;

	head(p, "snapshots", "Snapshots held, per GFS role (all: every "
	    "one).");
	sample(p, "snapshots", "role", "all", (double)rep->nsnaps);
	for (r = 0; r < 6; r++) {
		for (i = 0, n = 0; i < rep->nsnaps; i++)
			n += (rep->snaps[i].roles >> r) & 1u;
		sample(p, "snapshots", "role", name[r], n);
	}
}

/* Verification, offsite copy, drill: what the report says of them. */
static void
checks(struct prom *p, const struct gfsb_report *rep)
{
	if (rep->verify_ran) {
		metric(p, "verify_packs", "Packs the index names.",
		    (double)rep->packs_total);
		metric(p, "verify_packs_read", "Packs read last night.",
		    (double)rep->packs_read);
		metric(p, "verify_coverage_days", "Every pack read within "
		    "this many nights (-1: some never read).",
		    rep->days_since_all_read < 0 ? -1.0 :
		    (double)rep->days_since_all_read + 1);
		metric(p, "verify_packs_overdue", "Packs whose verification "
		    "night has passed without a read.",
		    (double)rep->packs_overdue);
		metric(p, "verify_damage", "Damaged objects found.",
		    (double)rep->ndamage);
	}
	if (rep->offsite != GFSB_OFFSITE_NONE) {
		metric(p, "offsite_in_sync", "1 when the offsite copy holds "
		    "everything, 0 when behind or unknown.",
		    rep->offsite == GFSB_OFFSITE_IN_SYNC);
		metric(p, "offsite_behind_objects", "Objects not yet copied "
		    "offsite.", (double)rep->behind_objects);
	}
	if (rep->drill.has)
		metric(p, "drill_projected_restore_seconds", "The last "
		    "drill's projection of a full restore.",
		    rep->drill.projected);
}

gfsb_err
gfsb_ops_monitor_metrics(struct gfsb_ctx *ctx, const char *path,
    const struct gfsb_run_result *res, int64_t last_success)
{
	const struct gfsb_report *rep = &res->rep;
	struct prom p;
	char *tmp = NULL;
	int fd = -1;
	gfsb_err e;

	memset(&p, 0, sizeof(p));
	gfsb_buf_init(&p.b);
	host_label(&p, rep->host != NULL ? rep->host : "");
	metric(&p, "last_run_timestamp_seconds", "When the daily job last "
	    "ran.", (double)rep->now.sec);
	metric(&p, "last_success_timestamp_seconds", "When the daily job "
	    "last ran without a failed stage (0: never).",
	    (double)last_success);
	metric(&p, "run_status", "The last report's status: 0 OK, 1 "
	    "WARNING, 2 FAILED.", (double)rep->status);
	stages(&p, res);
	if (rep->has_backup) {
		metric(&p, "backup_files", "Files in the newest snapshot.",
		    (double)rep->files_total);
		metric(&p, "backup_added_bytes", "Bytes the newest snapshot "
		    "added to the repository (packed).",
		    (double)rep->data_stored);
	}
	metric(&p, "repository_bytes", "Bytes stored in the repository.",
	    (double)rep->repo_size);
	roles(&p, rep);
	checks(&p, rep);
	if ((e = p.err) != GFSB_OK)
		goto out;
	e = GFSB_EIO;
	if (asprintf(&tmp, "%s.tmp-%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		e = GFSB_ENOMEM;
	} else if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) < 0) {
		gfsb_ctx_seterr(ctx, e, "metrics file %s: %s", path,
		    strerror(errno));
	} else {
		if (gfsb_sys_write_full(fd, p.b.data, p.b.len) == 0 &&
		    fsync(fd) == 0)
			e = GFSB_OK;
		if (close(fd) != 0 || (e == GFSB_OK && rename(tmp, path) != 0))
			e = GFSB_EIO;
		if (e != GFSB_OK) {
			gfsb_ctx_seterr(ctx, e, "metrics file %s: %s", path,
			    strerror(errno));
			unlink(tmp);
		}
	}
out:
	free(tmp);
	gfsb_buf_fini(&p.b);
	return e;
}
