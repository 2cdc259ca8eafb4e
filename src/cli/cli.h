/*
 * Shared by the gfsbackup program's subcommands: option parsing with the
 * global options, passphrase sources, opening the repository, printing,
 * and the mapping from library errors to documented exit statuses.
 */
#ifndef GFSB_CLI_H
#define GFSB_CLI_H

#include <getopt.h>
#include <stddef.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/util.h>

/* Exit statuses (ARCHITECTURE.md, command-line surface). */
#define EXIT_OK 0
#define EXIT_FATAL 1
#define EXIT_USAGE 2
#define EXIT_PARTIAL 3
#define EXIT_NOREPO 10
#define EXIT_LOCKED 11
#define EXIT_WRONGPASS 12
#define EXIT_INTERRUPTED 130 /* SIGINT, SIGTERM or SIGHUP; restic's too */

/* Global options, and state every command shares. */
struct cli {
	const char *prog;
	const char *cmd;
	const char *repo;
	const char *password_file;
	const char *password_command;
	int quiet;
	int verbose;
	int progress_shown; /* a progress line is on the terminal */
	const char *usage;  /* the command's usage text, for --help */
	struct gfsb_backend_opts remote; /* --s3-*, --cacert, ... */
	const char *cache_dir;	  /* --cache-dir */
	int no_cache;		  /* --no-cache */
	int64_t retry_lock;	  /* --retry-lock: seconds to wait for
				     conflicting locks to go; 0: none */
	int64_t as_of;		  /* --as-of: -r's repository as it stood
				     then (seconds since the epoch); 0:
				     now */
	int as_of_ok;		  /* the command only reads: --as-of
				     allowed (set by main) */
	struct gfsb_ctx *ctx;
	gfsb_err last_err;	/* the last error cli_fail said */
	struct gfsb_backend *be;
	struct gfsb_repo *r;
};

/* The global long options; commands append theirs (see cli_getopt). */
enum {
	OPT_REPO = 'r',
	OPT_QUIET = 'q',
	OPT_VERBOSE = 'v',
	OPT_HELP = 'h',
	OPT_PASSWORD_FILE = 1000,
	OPT_PASSWORD_COMMAND,
	OPT_S3_ENDPOINT,
	OPT_S3_REGION,
	OPT_S3_CREDENTIALS,
	OPT_S3_VHOST,
	OPT_CACERT,
	OPT_CONNECTIONS,
	OPT_LIMIT_UPLOAD,
	OPT_CACHE_DIR,
	OPT_NO_CACHE,
	OPT_AS_OF,
	OPT_RETRY_LOCK,
	OPT_CMD_BASE = 1100
};

/* The help for the global options, printed after each command's own. */
extern const char cli_global_usage[];

/* Every command's option table starts with these. */
#define CLI_GLOBAL_SHORT "r:qvh"
#define CLI_GLOBAL_OPTIONS                                                \
	{ "repo", required_argument, NULL, OPT_REPO },                    \
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },  \
	{ "password-command", required_argument, NULL,                    \
	    OPT_PASSWORD_COMMAND },                                       \
	{ "quiet", no_argument, NULL, OPT_QUIET },                        \
	{ "verbose", no_argument, NULL, OPT_VERBOSE },                    \
	{ "help", no_argument, NULL, OPT_HELP },                          \
	{ "s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT },      \
	{ "s3-region", required_argument, NULL, OPT_S3_REGION },          \
	{ "s3-credentials-file", required_argument, NULL,                 \
	    OPT_S3_CREDENTIALS },                                         \
	{ "s3-virtual-host", no_argument, NULL, OPT_S3_VHOST },           \
	{ "cacert", required_argument, NULL, OPT_CACERT },                \
	{ "connections", required_argument, NULL, OPT_CONNECTIONS },      \
	{ "limit-upload", required_argument, NULL, OPT_LIMIT_UPLOAD },    \
	{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },          \
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE },                  \
	{ "as-of", required_argument, NULL, OPT_AS_OF },                  \
	{ "retry-lock", required_argument, NULL, OPT_RETRY_LOCK }

/*
 * cli_getopt(c, argc, argv, shortopts, longopts):
 * getopt_long over a command's options (whose table includes
 * CLI_GLOBAL_OPTIONS); global options are handled here.  Returns the
 * option for the command to handle, -1 at the end, or '?' after printing
 * a usage error.  --help prints c->usage and exits 0.  --as-of is checked
 * here, once for every command: a valid local time, not in the future,
 * and only for a command that reads (c->as_of_ok); at the end of the
 * options, a command that writes gets '?' after the usage error.
 */
int cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts,
    const struct option *longopts);

/*
 * cli_number(c, opt, arg, min, max, out):
 * arg as a whole number from min to max into *out: 0; else a usage error
 * naming the option and the range (EXIT_USAGE).  The ranges are the
 * library's (GFSB_THREADS_MAX, GFSB_COMPRESS_LEVEL_MAX...), never
 * written out here.
 */
int cli_number(struct cli *c, const char *opt, const char *arg, long min,
    long max, long *out);

/* The candidate at most two edits from word (the closest; NULL: none):
 * for "did you mean" after a mistyped command or option. */
const char *cli_closest(const char *word, const char *const *cands,
    size_t n);

/* Print "gfsbackup: CMD: message" for a usage error; return EXIT_USAGE. */
int cli_usage_error(struct cli *c, const char *fmt, ...) GFSB_PRINTF(2, 3);

/* Print the error for e (the context's detail if any); return its exit
 * status. */
int cli_fail(struct cli *c, gfsb_err e);

/* cli_fail for a configuration file (a policy) that cannot be used:
 * exit 2, nothing was done (1 only when out of memory). */
int cli_config_fail(struct cli *c, gfsb_err e);

/* Load the daily job's configuration at path (gfsb_config_load), saying
 * what is wrong: exit 2 for a file that cannot be used (nothing was
 * done), 1 if reading it failed midway or memory ran out. */
struct gfsb_config;
int cli_config_load(struct cli *c, const char *path, struct gfsb_config *cfg);

/* The exit status for e. */
int cli_exit_status(gfsb_err e);

/* Print a line to stderr, clearing a progress line first. */
void cli_msg(struct cli *c, const char *fmt, ...) GFSB_PRINTF(2, 3);

/* Draw (or clear, with NULL) the one-line progress display on stderr. */
void cli_progress(struct cli *c, const char *line);

/* Is stderr a terminal on which to draw progress? */
int cli_tty(struct cli *c);

/*
 * cli_passphrase(c, confirm, prompt, out, len):
 * Obtain a passphrase from --password-file, --password-command,
 * GFSBACKUP_PASSWORD_FILE, GFSBACKUP_PASSWORD or a prompt on the terminal
 * (twice if confirm).  *out is secure memory (free with
 * gfsb_crypto_secure_free).  Returns an exit status (EXIT_OK on success).
 */
int cli_passphrase(struct cli *c, int confirm, const char *prompt,
    char **out, size_t *len);

/* Read a passphrase from a file (first line). */
int cli_passphrase_file(struct cli *c, const char *path, char **out,
    size_t *len);

/* Open the backend for url with the remote options; exit status (a
 * malformed URL or endpoint is a usage error). */
int cli_open_url(struct cli *c, const char *url, struct gfsb_backend **out);

/* Open the backend for -r (or GFSBACKUP_REPOSITORY), as of --as-of if
 * given (only -r's repository: never --to, --offsite); exit status.  A
 * view of the past where there can be none (a directory, a bucket never
 * versioned) is a usage error, like a malformed URL. */
int cli_open_backend(struct cli *c);

/* Open the backend and the repository (asks for the passphrase). */
int cli_open_repo(struct cli *c);

/* The library's lines (a gfsb_ops_line_fn; cookie: the struct cli): a
 * result on stdout, a warning on stderr (after clearing the progress
 * line). */
void cli_put_line(void *cookie, enum gfsb_ops_line kind, const char *line);

/* --object-lock MODE: compliance or governance (exit status; a usage
 * error otherwise). */
int cli_lock_mode(struct cli *c, const char *arg, enum gfsb_lock_mode *m);

/* Apply --cache-dir / --no-cache to c->r; exit status. */
int cli_apply_cache(struct cli *c);

/* Release what cli_open_* opened. */
void cli_close(struct cli *c);

/* Append s to a growable array of strings; 0 on success. */
int cli_strv_add(const char ***v, size_t *n, const char *s);

/* Command entry points: argc/argv start at the command name. */
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_backup(struct cli *c, int argc, char **argv);
int cmd_snapshots(struct cli *c, int argc, char **argv);
int cmd_ls(struct cli *c, int argc, char **argv);
int cmd_restore(struct cli *c, int argc, char **argv);
int cmd_key(struct cli *c, int argc, char **argv);
int cmd_unlock(struct cli *c, int argc, char **argv);
int cmd_forget(struct cli *c, int argc, char **argv);
int cmd_prune(struct cli *c, int argc, char **argv);
int cmd_policy(struct cli *c, int argc, char **argv);
int cmd_sync(struct cli *c, int argc, char **argv);
int cmd_verify(struct cli *c, int argc, char **argv);
int cmd_repair(struct cli *c, int argc, char **argv);
int cmd_run(struct cli *c, int argc, char **argv);

/* Parse "5%", "5" (percent) or "0.5%" into a fraction; -1 if invalid. */
double cli_percent(const char *s);

/* Print prune's outcome (shared by prune and forget --prune). */
struct gfsb_prune_result;
void cli_print_prune(struct cli *c, const struct gfsb_prune_result *res,
    double max_unused, int dry_run);

#endif
