/*
 * The drill record: the last GFSB_DRILL_KEEP restore drills, as JSON
 * beside the verification state, so that the nightly report can show the
 * last drill on the nights none runs, and the job can tell when the next
 * one is due.
 *
 *   {"version": 1, "drills": [{"time": 1796000000, "day": 20787,
 *     "from": "s3://...", "snapshot": "1a2b...", "files": 12,
 *     "bytes": 2000000, "total_files": 15290, "total_bytes": 1073741824,
 *     "seconds": 1.5, "setup": 0.2, "rate": 2.1e8, "projected": 5.3,
 *     "failed": 0, "failures": ["/etc/x: content differs ..."]}, ...]}
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <gfsbackup/ops.h>

#include "ops_internal.h"

#define RECORD_VERSION 1
#define RECORD_FAILURES 10	/* failed files kept per drill */

/* The record's drills (a new array when there is no file). */
static gfsb_err
record_read(struct gfsb_ctx *ctx, const char *path, json_t **drills)
{
	json_error_t err;
	json_t *root, *a;

	*drills = NULL;
	if ((root = json_load_file(path, 0, &err)) == NULL) {
		if (access(path, F_OK) != 0 && errno == ENOENT)
			return (*drills = json_array()) != NULL ? GFSB_OK :
			    GFSB_ENOMEM;
		return gfsb_ctx_seterr(ctx, GFSB_ECORRUPT, "drill record %s: "
		    "%s", path, err.text);
	}
	a = json_object_get(root, "drills");
	if (!json_is_array(a) || json_integer_value(json_object_get(root,
	    "version")) != RECORD_VERSION) {
		json_decref(root);
		return gfsb_ctx_seterr(ctx, GFSB_ECORRUPT, "drill record %s: "
		    "not a drill record of this version", path);
	}
	*drills = json_incref(a);
	json_decref(root);
	return GFSB_OK;
}

static json_t *
drill_json(const struct gfsb_drill_result *res, const struct gfsb_time *when,
    const char *from)
{
	json_t *d, *f;
	char line[4200];
	size_t i;

	if ((d = json_pack("{sI sI ss ss sI sI sI sI sf sf sf sf sI}",
	    "time", (json_int_t)when->sec,
	    "day", (json_int_t)gfsb_ops_verify_day(when),
	    "from", from != NULL ? from : "",
	    "snapshot", res->snapshot,
	    "files", (json_int_t)res->files,
	    "bytes", (json_int_t)res->bytes,
	    "total_files", (json_int_t)res->total_files,
	    "total_bytes", (json_int_t)res->total_bytes,
	    "seconds", res->seconds,
	    "setup", res->setup,
	    "rate", res->rate,
	    "projected", res->projected,
	    "failed", (json_int_t)res->failed)) == NULL)
		return NULL;
	if ((f = json_array()) == NULL || json_object_set_new(d, "failures",
	    f) != 0) {
		json_decref(d);
		return NULL;
	}
	for (i = 0; i < res->nfailures && i < RECORD_FAILURES; i++) {
		snprintf(line, sizeof(line), "%s: %s", res->failures[i].path,
		    res->failures[i].why);
		if (json_array_append_new(f, json_string(line)) != 0) {
			json_decref(d);
			return NULL;
		}
	}
	return d;
}

static gfsb_err
record_write(struct gfsb_ctx *ctx, const char *path, json_t *drills)
{
	char *tmp = NULL, *dir, *slash;
	json_t *root;
	gfsb_err e = GFSB_OK;
	int fd = -1, rc;

	if ((dir = strdup(path)) == NULL)
		return GFSB_ENOMEM;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((rc = gfsb_sys_mkdirs(dir)) != 0) {
			e = gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot create %s for "
			    "the drill record: %s", dir, strerror(rc));
			free(dir);
			return e;
		}
	}
	free(dir);
	if ((root = json_pack("{sI sO}", "version", (json_int_t)RECORD_VERSION,
	    "drills", drills)) == NULL ||
	    asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		json_decref(root);
		return GFSB_ENOMEM;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0 || json_dumpfd(root, fd, JSON_COMPACT) != 0 || fsync(fd) != 0 ||
	    close(fd) != 0 || (fd = -1, rename(tmp, path)) != 0) {
		e = gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot write the drill "
		    "record %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(tmp);
	json_decref(root);
	return e;
}

gfsb_err
gfsb_ops_drill_record(struct gfsb_ctx *ctx, const char *path,
    const struct gfsb_drill_result *res, const struct gfsb_time *when,
    const char *from)
{
	json_t *drills, *d;
	gfsb_err e;

	/* A record that cannot be read (edited, truncated by a full disk)
	 * must not stop every later drill from being recorded: start anew,
	 * and say so. */
	if ((e = record_read(ctx, path, &drills)) == GFSB_ECORRUPT) {
		gfsb_ctx_log(ctx, GFSB_LOG_WARN, "%s; starting it anew",
		    gfsb_ctx_errmsg(ctx));
		gfsb_ctx_clearerr(ctx);
		e = (drills = json_array()) != NULL ? GFSB_OK : GFSB_ENOMEM;
	}
	if (e != GFSB_OK)
		return e;
	if ((d = drill_json(res, when, from)) == NULL ||
	    json_array_append_new(drills, d) != 0) {
		json_decref(drills);
		return GFSB_ENOMEM;
	}
	while (json_array_size(drills) > GFSB_DRILL_KEEP)
		json_array_remove(drills, 0);
	e = record_write(ctx, path, drills);
	json_decref(drills);
	return e;
}

/* o's string k, or "" (a record edited by hand). */
static const char *
str(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "";
}

static uint64_t
u64(const json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (uint64_t)v : 0;
}

static double
dbl(const json_t *o, const char *k)
{
	double v = json_number_value(json_object_get(o, k));

	return v > 0 ? v : 0;
}

/* out from one record entry. */
static gfsb_err
drill_from_json(const json_t *d, struct gfsb_report_drill *out)
{
	const json_t *f = json_object_get(d, "failures"), *v;
	size_t i;

	out->when.sec = json_integer_value(json_object_get(d, "time"));
	snprintf(out->snapshot, sizeof(out->snapshot), "%.8s",
	    str(d, "snapshot"));
	out->files = u64(d, "files");
	out->bytes = u64(d, "bytes");
	out->total_files = u64(d, "total_files");
	out->total_bytes = u64(d, "total_bytes");
	out->seconds = dbl(d, "seconds");
	out->rate = dbl(d, "rate");
	out->projected = dbl(d, "projected");
	out->failed = u64(d, "failed");
	if ((out->repo = strdup(str(d, "from"))) == NULL)
		return GFSB_ENOMEM;
	if (!json_is_array(f) || json_array_size(f) == 0)
		return GFSB_OK;
	if ((out->failed_files = calloc(json_array_size(f),
	    sizeof(char *))) == NULL)
		return GFSB_ENOMEM;
	json_array_foreach(f, i, v) {
		if ((out->failed_files[i] = strdup(json_is_string(v) ?
		    json_string_value(v) : "?")) == NULL)
			return GFSB_ENOMEM;
		out->nfailed_files = i + 1;
	}
	return GFSB_OK;
}

/* The newest drill in the record, or NULL. */
static json_t *
last_drill(json_t *drills)
{
	size_t n = json_array_size(drills);

	return n > 0 ? json_array_get(drills, n - 1) : NULL;
}

gfsb_err
gfsb_ops_drill_last(struct gfsb_ctx *ctx, const char *path,
    struct gfsb_report_drill *out)
{
	json_t *drills, *d;
	gfsb_err e;

	memset(out, 0, sizeof(*out));
	if ((e = record_read(ctx, path, &drills)) != GFSB_OK)
		return e;
	if ((d = last_drill(drills)) != NULL) {
		out->has = 1;
		e = drill_from_json(d, out);
	}
	json_decref(drills);
	return e;
}

int
gfsb_ops_drill_due(struct gfsb_ctx *ctx, const char *path,
    const struct gfsb_time *now, int every_days)
{
	json_t *drills, *d;
	int due = 1;

	if (record_read(ctx, path, &drills) != GFSB_OK) {
		gfsb_ctx_clearerr(ctx);
		return 1; /* an unreadable record is rewritten by the drill */
	}
	/* A failed drill is due again the next night, until one passes. */
	if ((d = last_drill(drills)) != NULL && u64(d, "failed") == 0)
		due = gfsb_ops_verify_day(now) - json_integer_value(
		    json_object_get(d, "day")) >= (every_days > 0 ? every_days :
		    1);
	json_decref(drills);
	return due;
}

gfsb_err
gfsb_ops_report_drill(struct gfsb_report *rep, struct gfsb_ctx *ctx,
    const char *path, int ran, double rto, int every_days)
{
	struct gfsb_report_drill *d = &rep->drill;
	char took[32], goal[32];
	int64_t age;
	gfsb_err e;

	free(d->repo);
	for (size_t i = 0; i < d->nfailed_files; i++)
		free(d->failed_files[i]);
	free(d->failed_files);
	if ((e = gfsb_ops_drill_last(ctx, path, d)) != GFSB_OK)
		return e;
	d->rto = rto;
	d->ran = ran && d->has;
	if (!d->has)
		return every_days > 0 ? gfsb_report_add_warning(rep, "no "
		    "restore drill has run yet") : GFSB_OK;
	if (d->failed > 0 && (e = (ran ? gfsb_report_add_error :
	    gfsb_report_add_warning)(rep, "restore drill: %llu file(s) of "
	    "snapshot %s did not come back intact from %s",
	    (unsigned long long)d->failed, d->snapshot, d->repo)) != GFSB_OK)
		return e;
	gfsb_duration_format(d->projected, took, sizeof(took));
	gfsb_duration_format(rto, goal, sizeof(goal));
	if (rto > 0 && d->projected > rto && (e = gfsb_report_add_warning(rep,
	    "restoring snapshot %s in full from %s would take about %s, more "
	    "than the recovery-time objective of %s", d->snapshot, d->repo,
	    took, goal)) != GFSB_OK)
		return e;
	age = (rep->now.sec - d->when.sec) / 86400;
	if (every_days > 0 && age >= 2 * (int64_t)every_days)
		return gfsb_report_add_warning(rep, "the last restore drill "
		    "ran %lld days ago (one is due every %d)", (long long)age,
		    every_days);
	return GFSB_OK;
}
