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

/*
 * Declarative options, in the style of git's parse-options: a command
 * lists each of its options once (struct cli_opt: long name, short
 * letter, kind, where the value goes, its limits), and cli_parse derives
 * getopt_long's tables, adds the global options, converts and checks
 * every value, and says what is wrong in the words users know.
 */
enum cli_opt_kind {
	CLI_KIND_SET,	   /* no argument: *(int *)value = min */
	CLI_KIND_COUNT,	   /* no argument: ++*(int *)value */
	CLI_KIND_ACTION,   /* no argument: cb(c, o, NULL) */
	CLI_KIND_STRING,   /* *(const char **)value = arg (the last one) */
	CLI_KIND_LIST,	   /* repeatable: appended to a struct cli_list */
	CLI_KIND_NUMBER,   /* whole number in [min, max] (cli_number) */
	CLI_KIND_SIZE,	   /* gfsb_size_parse, at most max */
	CLI_KIND_DURATION, /* gfsb_gfs_margin_parse, at least min: int64_t */
	CLI_KIND_TIME,	   /* gfsb_time_parse_local: struct gfsb_time */
	CLI_KIND_PERCENT,  /* "5%", "5" or "0.5%": a fraction in a double */
	CLI_KIND_ENUM,	   /* one of names: its value into an int */
	CLI_KIND_CALLBACK  /* cb(c, o, arg) */
};

struct cli_opt;

/* An option's own parsing: an exit status (EXIT_OK: go on). */
typedef int cli_opt_fn(struct cli *c, const struct cli_opt *o,
    const char *arg);

struct cli_opt_enum {
	const char *name;
	int value;
};

struct cli_opt {
	const char *name;	/* the long name, without "--"; NULL: end */
	int letter;		/* the short option; 0: none */
	enum cli_opt_kind kind;
	void *value;		/* where the value goes */
	size_t size;		/* NUMBER, SIZE: sizeof(*value), 4 or 8 */
	long long min, max;	/* limits (SET: the value to set) */
	const char *label;	/* NUMBER, SIZE, TIME: in errors instead of
				   "--name" */
	const char *hint;	/* after the argument in errors */
	const struct cli_opt_enum *names; /* ENUM: ends with a NULL name */
	cli_opt_fn *cb;		/* ACTION, CALLBACK */
	const char **given;	/* if set: the name goes there when given */
};

/* A repeatable option's arguments (the strings are argv's). */
struct cli_list {
	const char **v;
	size_t n;
};

/* p, checked at compile time to point to a T. */
#define CLI_OPT_PTR(T, p) (1 ? (p) : (T *)NULL)

/* The fields every entry has; an entry with more (.given, say) is
 * written { CLI_OPT_(KIND, ...), .field = ... }. */
#define CLI_OPT_(k, l, s, p)                                              \
	.name = (l), .letter = (s), .kind = CLI_KIND_##k, .value = (p)

#define CLI_OPT_FLAG(l, s, p) CLI_OPT_SET(l, s, p, 1)
#define CLI_OPT_SET(l, s, p, v)                                           \
	{ CLI_OPT_(SET, l, s, CLI_OPT_PTR(int, p)), .min = (v) }
#define CLI_OPT_COUNT(l, s, p) { CLI_OPT_(COUNT, l, s, CLI_OPT_PTR(int, p)) }
#define CLI_OPT_STRING(l, s, p)                                           \
	{ CLI_OPT_(STRING, l, s, CLI_OPT_PTR(const char *, p)) }
#define CLI_OPT_LIST(l, s, p)                                             \
	{ CLI_OPT_(LIST, l, s, CLI_OPT_PTR(struct cli_list, p)) }
#define CLI_OPT_NUMBER(l, s, p, lo, hi, lab)                              \
	{ CLI_OPT_(NUMBER, l, s, p), .size = sizeof(*(p)), .min = (lo),   \
	  .max = (hi), .label = (lab) }
#define CLI_OPT_SIZE(l, s, p, hi, lab)                                    \
	{ CLI_OPT_(SIZE, l, s, p), .size = sizeof(*(p)), .max = (hi),     \
	  .label = (lab) }
#define CLI_OPT_DURATION(l, s, p, lo, h)                                  \
	{ CLI_OPT_(DURATION, l, s, CLI_OPT_PTR(int64_t, p)), .min = (lo), \
	  .hint = (h) }
#define CLI_OPT_TIME(l, s, p)                                             \
	{ CLI_OPT_(TIME, l, s, CLI_OPT_PTR(struct gfsb_time, p)) }
#define CLI_OPT_PERCENT(l, s, p, h)                                       \
	{ CLI_OPT_(PERCENT, l, s, CLI_OPT_PTR(double, p)), .hint = (h) }
#define CLI_OPT_ENUM(l, s, p, list)                                       \
	{ CLI_OPT_(ENUM, l, s, CLI_OPT_PTR(int, p)), .names = (list) }
#define CLI_OPT_ACTION(l, s, p, fn) { CLI_OPT_(ACTION, l, s, p), .cb = (fn) }
#define CLI_OPT_CALLBACK(l, s, p, fn)                                     \
	{ CLI_OPT_(CALLBACK, l, s, p), .cb = (fn) }
#define CLI_OPT_END { .name = NULL }

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

/* cli_parse's max_args: any number of positional arguments. */
#define CLI_ANY (-1)

/*
 * cli_parse(c, argc, argv, opts, max_args):
 * Parse argv (from the command's name on) with the command's options
 * (opts, ended by CLI_OPT_END) and the global options, storing each
 * value where its entry says; the positional arguments are then
 * argv[optind..argc-1].  --help prints the command's help and the
 * global options', and exits 0.  --as-of is checked here for every
 * command: a valid local time, not in the future, and only for a
 * command that reads (c->as_of_ok).  More than max_args positional
 * arguments (unless CLI_ANY) is "unexpected argument".  Returns EXIT_OK,
 * or the exit status after saying what is wrong (EXIT_USAGE; EXIT_FATAL
 * when out of memory), with a "did you mean" for a mistyped option.
 */
int cli_parse(struct cli *c, int argc, char **argv,
    const struct cli_opt *opts, int max_args);

/* Append s to l (for a callback of a repeatable option); exit status. */
int cli_list_add(struct cli *c, struct cli_list *l, const char *s);

/* A CLI_OPT_CALLBACK for a tag (a struct cli_list): never empty, and no
 * comma, which would make it two. */
int cli_opt_tag(struct cli *c, const struct cli_opt *o, const char *arg);

/* A CLI_OPT_CALLBACK for --object-lock MODE into an enum gfsb_lock_mode
 * (cli_lock_mode). */
int cli_opt_lock_mode(struct cli *c, const struct cli_opt *o,
    const char *arg);

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

/* --object-lock MODE: compliance or governance (exit status; a usage
 * error otherwise). */
int cli_lock_mode(struct cli *c, const char *arg, enum gfsb_lock_mode *m);

/* The open options c's global options give, with the passphrase from
 * pass (for gfsb_ops_open, or a job that opens its own). */
void cli_open_opts(struct cli *c, const struct gfsb_pass_source *pass,
    struct gfsb_open_opts *o);

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
