/*
 * The job engine's private parts, shared by ops_run.c (the daily job:
 * its stages that write, its order, its lock), ops_run_check.c (the
 * stages that check: verify, drill, report) and ops_check.c (those
 * stages on their own, as gfsbackup verify runs them).
 */
#ifndef GFSB_OPS_RUN_H
#define GFSB_OPS_RUN_H

#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

struct run {
	const struct gfsb_run_opts *o;
	const struct gfsb_config *cfg;
	struct gfsb_ctx *ctx;
	struct gfsb_repo *repo;
	struct gfsb_backend *offsite;	/* NULL once sync failed */
	struct gfsb_run_result *res;
	struct gfsb_time t0;		/* start of the current stage */
	unsigned threads;		/* transfers at once */
	int before_failed;		/* the before hook failed: no backup */
	/* gfsb_ops_check's: its options and where the verification is
	 * kept; NULL for the daily job. */
	const struct gfsb_check_opts *check;
	struct gfsb_check_result *checked;
	/* Why the repository or the offsite copy could not be opened (by
	 * the caller, or by rn_open), and what rn_open opened. */
	gfsb_err open_err;
	const char *open_error, *offsite_error;
	char open_why[1024], offsite_why[1024];
	struct gfsb_backend *own_be, *own_offsite;
	struct gfsb_repo *own_repo;
};

/* Seconds since t0. */
double rn_since(const struct gfsb_time *t0);

/* A stage starts: its clock, a clean error slot. */
void rn_stage_begin(struct run *r);

/* Record a stage's end (res->stages, the report's row, o->stage_done);
 * the first failure is the job's. */
void rn_stage_end(struct run *r, const char *name, gfsb_err err, int partial,
    enum gfsb_report_status status, const char *fmt, ...) GFSB_PRINTF(6, 7);

/* The detail of the last error, or the error's name. */
const char *rn_why(struct run *r, gfsb_err e);

/* A stage failed with e: its row says why. */
void rn_stage_failed(struct run *r, const char *name, gfsb_err e);

/* The repository and the offsite copy: the caller's, or (o->open) opened
 * here from the configuration, with why when one could not be. */
void rn_open(struct run *r);

/* Close what rn_open opened. */
void rn_close(struct run *r);

/* A stage that needs the repository, which could not be opened: its row
 * says so, and 1; else 0. */
int rn_no_repo(struct run *r, const char *name);

/* Opened with a write-only key: stage name is a full key's to do (what
 * says which), so it ends OK saying so in the daily job, and fails with
 * GFSB_EAUTH when asked for by itself (gfsb_ops_check); non-zero then. */
int rn_full_key_only(struct run *r, const char *name, const char *what);

/* The report's facts could not be recorded (memory): said, and the job
 * fails with it. */
void rn_report_fail(struct run *r, gfsb_err e);

/* The job's own state (STATE/<repository id>/run.json): an integer
 * under key, dflt when none; setting one keeps the others. */
int64_t rn_state_get(struct run *r, const char *key, int64_t dflt);
void rn_state_set(struct run *r, const char *key, int64_t value);

/* The stages that check (ops_run_check.c). */
void rn_stage_verify(struct run *r);
void rn_stage_verify_offsite(struct run *r);
void rn_stage_drill(struct run *r);
void rn_stage_report(struct run *r);

#endif
