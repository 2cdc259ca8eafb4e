/*
 * gfsbackup: parse the command line, run one command, map the outcome to
 * the documented exit status.  Every command is a thin layer over the
 * library (src/cli/cmd_*.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/util.h>

#include "cli.h"

static struct gfsb_ctx *sig_ctx;

static void
on_signal(int sig)
{
	static volatile sig_atomic_t count;

	/* First signal: stop cleanly (index what is stored).  Second: now. */
	if (count++ > 0) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	if (sig_ctx != NULL)
		gfsb_ctx_cancel(sig_ctx);
}

static void
on_log(void *cookie, enum gfsb_log_level level, const char *msg)
{
	struct cli *c = cookie;
	const char *prefix = gfsb_ctx_log_prefix(level, c->verbose);

	/* Which levels -v shows: the library's (gfsb_ctx_log_prefix). */
	if (prefix != NULL)
		cli_msg(c, "%s: %s%s", c->prog, prefix, msg);
}

static void
print_usage(FILE *f)
{
	fputs(cli_help("gfsbackup"), f);
	fputs(cli_help("global"), f);
	fputs(cli_help("exit-status"), f);
}

struct command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	int as_of;	/* reads only: may read a past state (--as-of) */
};

static const struct command commands[] = {
	{ "init", cmd_init, 0 },
	{ "backup", cmd_backup, 0 },
	{ "snapshots", cmd_snapshots, 1 },
	{ "ls", cmd_ls, 1 },
	{ "restore", cmd_restore, 1 },
	{ "key", cmd_key, 0 },
	{ "unlock", cmd_unlock, 0 },
	{ "forget", cmd_forget, 0 },
	{ "prune", cmd_prune, 0 },
	{ "policy", cmd_policy, 0 },
	{ "sync", cmd_sync, 1 },	/* the source only; --to is written */
	{ "verify", cmd_verify, 1 },
	{ "repair", cmd_repair, 0 },
	{ "run", cmd_run, 0 },
	{ "diff", cmd_diff, 1 },
	{ "stats", cmd_stats, 1 },
	{ "find", cmd_find, 1 },
	{ "dump", cmd_dump, 1 },
	{ "tag", cmd_tag, 0 },
	{ "mount", cmd_mount, 1 },
};

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct cli c;
	size_t i;
	int rc;

	gfsb_sys_harden();
	memset(&c, 0, sizeof(c));
	c.prog = "gfsbackup";
	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("gfsbackup %s\n", GFSB_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		print_usage(stdout);
		return EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		const char *names[sizeof(commands) / sizeof(commands[0])];
		const char *best;

		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			names[i] = commands[i].name;
		best = gfsb_opt_closest(argv[1], names, i);
		fprintf(stderr, "gfsbackup: unknown command %s%s%s%s (see "
		    "`gfsbackup --help`)\n", argv[1], best ? ": did you mean " :
		    "", best ? best : "", best ? "?" : "");
		return EXIT_USAGE;
	}
	c.cmd = commands[i].name;
	c.as_of_ok = commands[i].as_of;
	if (gfsb_ctx_new(&c.ctx) != GFSB_OK) {
		fprintf(stderr, "gfsbackup: cannot initialise (libsodium)\n");
		return EXIT_FATAL;
	}
	gfsb_ctx_set_log(c.ctx, on_log, &c);
	sig_ctx = c.ctx;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = commands[i].run(&c, argc - 1, argv + 1);
	cli_close(&c);
	sig_ctx = NULL;
	gfsb_ctx_free(c.ctx);
	return rc;
}
