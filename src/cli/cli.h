/*
 * Shared by the gfsbackup program's subcommands: option parsing with the
 * global options, choosing passphrase sources, opening the repository,
 * printing, and the mapping from library errors to documented exit
 * statuses.
 */
#ifndef GFSB_CLI_H
#define GFSB_CLI_H

#include <getopt.h>
#include <stddef.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/opt.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/util.h>

/* Exit statuses (the library's: ARCHITECTURE.md's surface). */
#define EXIT_OK GFSB_EXIT_OK
#define EXIT_FATAL GFSB_EXIT_FATAL
#define EXIT_USAGE GFSB_EXIT_USAGE
#define EXIT_PARTIAL GFSB_EXIT_PARTIAL
#define EXIT_NOREPO GFSB_EXIT_NOREPO
#define EXIT_LOCKED GFSB_EXIT_LOCKED
#define EXIT_WRONGPASS GFSB_EXIT_WRONGPASS
#define EXIT_INTERRUPTED GFSB_EXIT_INTERRUPTED

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

/* The help texts, docs/help/NAME.txt compiled in (cmake/help.cmake):
 * a command's, "global" (the global options, after each command's),
 * "gfsbackup" and "exit-status" (gfsbackup --help). */
struct cli_help {
	const char *name;
	const char *text;
};
extern const struct cli_help cli_helps[];

/* The help text called name ("" if there is none). */
const char *cli_help(const char *name);

/*
 * cli_parse(c, argc, argv, opts, max_args):
 * Parse argv (from the command's name on) with the command's options
 * (opts, ended by GFSB_OPT_END) and the global options (gfsb_opt_parse;
 * callbacks get c as their cookie); the positional arguments are then
 * argv[optind..argc-1].  --help prints the command's help and the
 * global options', and exits 0.  --as-of is checked here for every
 * command: a valid local time, not in the future, and only for a
 * command that reads (c->as_of_ok).  Returns EXIT_OK, or the exit status
 * after saying what is wrong (EXIT_USAGE; EXIT_FATAL when out of
 * memory).
 */
int cli_parse(struct cli *c, int argc, char **argv,
    const struct gfsb_opt *opts, int max_args);

/* Print "gfsbackup: CMD: message" for a usage error; return EXIT_USAGE. */
int cli_usage_error(struct cli *c, const char *fmt, ...) GFSB_PRINTF(2, 3);

/* Print the error for e (the context's detail if any); return its exit
 * status. */
int cli_fail(struct cli *c, gfsb_err e);

/* cli_fail for a configuration file (a policy) that cannot be used:
 * gfsb_ops_config_exit's status (2: nothing was done; 1: no memory). */
int cli_config_fail(struct cli *c, gfsb_err e);

/* Print a line to stderr, clearing a progress line first. */
void cli_msg(struct cli *c, const char *fmt, ...) GFSB_PRINTF(2, 3);

/* Draw (or clear, with NULL) the one-line progress display on stderr. */
void cli_progress(struct cli *c, const char *line);

/* Is stderr a terminal on which to draw progress? */
int cli_tty(struct cli *c);

/*
 * cli_passphrase(c, confirm, prompt, out, len):
 * Obtain a passphrase from --password-file, --password-command,
 * GFSBACKUP_PASSWORD_FILE, GFSBACKUP_PASSWORD_COMMAND, GFSBACKUP_PASSWORD
 * or a prompt on the terminal (twice if confirm).  *out is secure memory
 * (free with gfsb_crypto_secure_free).  Returns an exit status (EXIT_OK
 * on success; see cli_pass_read).
 */
int cli_passphrase(struct cli *c, int confirm, const char *prompt,
    char **out, size_t *len);

/* The passphrase's sources: --password-file, --password-command, the
 * environment, then a prompt (NULL: none), asked twice if confirm. */
struct gfsb_pass_source cli_pass_source(struct cli *c, int confirm,
    const char *prompt);

/*
 * cli_pass_read(c, src, out, len):
 * gfsb_pass_read from src, saying what went wrong: EXIT_USAGE when
 * nothing was done (no passphrase source, a file that cannot be read or
 * others may read), EXIT_FATAL otherwise.
 */
struct gfsb_pass_source;
int cli_pass_read(struct cli *c, const struct gfsb_pass_source *src,
    char **out, size_t *len);

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

/* The open options c's global options give, with the passphrase from
 * pass (for gfsb_ops_open, or a job that opens its own). */
void cli_open_opts(struct cli *c, const struct gfsb_pass_source *pass,
    struct gfsb_open_opts *o);

/* Release what cli_open_* opened. */
void cli_close(struct cli *c);

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
int cmd_diff(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv);
int cmd_find(struct cli *c, int argc, char **argv);
int cmd_dump(struct cli *c, int argc, char **argv);
int cmd_tag(struct cli *c, int argc, char **argv);
int cmd_mount(struct cli *c, int argc, char **argv);

/* Print prune's outcome (shared by prune and forget --prune). */
struct gfsb_prune_result;
void cli_print_prune(struct cli *c, const struct gfsb_prune_result *res,
    double max_unused, int dry_run);

#endif
