/*
 * What every subcommand shares: global options, passphrases, opening the
 * repository, messages, and exit statuses.
 *
 * Passphrases are never taken from argv: they come from a file, a command,
 * the environment or the terminal, and live in secure memory (locked, out
 * of core dumps, wiped when freed).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

#define PASS_MAX 4096

int
cli_tty(struct cli *c)
{
	return !c->quiet && isatty(STDERR_FILENO);
}

void
cli_progress(struct cli *c, const char *line)
{
	if (!cli_tty(c))
		return;
	if (line == NULL) {
		if (c->progress_shown)
			fputs("\r\033[K", stderr);
		c->progress_shown = 0;
	} else {
		fprintf(stderr, "\r\033[K%s", line);
		c->progress_shown = 1;
	}
	fflush(stderr);
}

void
cli_msg(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	cli_progress(c, NULL);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_put_line(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	struct cli *c = cookie;

	if (kind == GFSB_OPS_LINE_WARNING)
		cli_msg(c, "%s", line);
	else
		printf("%s\n", line);
}

int
cli_number(struct cli *c, const char *opt, const char *arg, long min,
    long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return cli_usage_error(c, "invalid %s %s (%ld to %ld)", opt,
		    arg, min, max);
	*out = v;
	return 0;
}

int
cli_usage_error(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s%s", c->prog, c->cmd ? c->cmd : "",
	    c->cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see `%s %s%s--help`)\n", c->prog,
	    c->cmd ? c->cmd : "", c->cmd ? " " : "");
	return EXIT_USAGE;
}

int
cli_exit_status(gfsb_err e)
{
	switch (e) {
	case GFSB_OK: return EXIT_OK;
	case GFSB_ENOREPO: return EXIT_NOREPO;
	case GFSB_ELOCKED: return EXIT_LOCKED;
	case GFSB_EAUTH: return EXIT_WRONGPASS;
	case GFSB_ECANCELED: return EXIT_INTERRUPTED;
	default: return EXIT_FATAL;
	}
}

int
cli_fail(struct cli *c, gfsb_err e)
{
	const char *detail = c->ctx ? gfsb_ctx_errmsg(c->ctx) : "";

	c->last_err = e;
	cli_progress(c, NULL);
	fprintf(stderr, "%s: %s: %s\n", c->prog, c->cmd ? c->cmd : "error",
	    detail[0] ? detail : gfsb_strerror(e));
	return cli_exit_status(e);
}

int
cli_config_fail(struct cli *c, gfsb_err e)
{
	int rc = cli_fail(c, e);

	return e == GFSB_ENOMEM ? rc : EXIT_USAGE;
}

int
cli_config_load(struct cli *c, const char *path, struct gfsb_config *cfg)
{
	gfsb_err e;

	memset(cfg, 0, sizeof(*cfg));
	if (path[0] == '\0')
		return cli_usage_error(c, "--config: no file given");
	if ((e = gfsb_config_load(c->ctx, path, cfg)) == GFSB_OK)
		return EXIT_OK;
	return e == GFSB_EIO ? cli_fail(c, e) : cli_config_fail(c, e);
}

const char cli_global_usage[] =
"\n"
"Global options (every command):\n"
"  -r, --repo REPO             a directory, or s3://BUCKET/PREFIX\n"
"                              (or GFSBACKUP_REPOSITORY)\n"
"  --password-file FILE        read the passphrase from FILE\n"
"                              (or GFSBACKUP_PASSWORD_FILE)\n"
"  --password-command CMD      run CMD for the passphrase\n"
"                              (or GFSBACKUP_PASSWORD_COMMAND);\n"
"                              GFSBACKUP_PASSWORD also works, else a prompt\n"
"  -q, --quiet                 no progress, no information messages\n"
"  -v, --verbose               more messages\n"
"  -h, --help                  help for a command\n"
"S3 repositories:\n"
"  --s3-endpoint URL           http(s)://HOST[:PORT] of an S3-compatible\n"
"                              server (or GFSBACKUP_S3_ENDPOINT; else AWS)\n"
"  --s3-region REGION          (or AWS_REGION / AWS_DEFAULT_REGION;\n"
"                              default us-east-1)\n"
"  --s3-credentials-file FILE  aws_access_key_id/aws_secret_access_key in\n"
"                              [default]; mode 0600 (else AWS_ACCESS_KEY_ID,\n"
"                              AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)\n"
"  --s3-virtual-host           BUCKET.HOST addressing (default: path style)\n"
"  --cacert FILE               CA certificates to verify servers with\n"
"                              (or AWS_CA_BUNDLE; else the system's)\n"
"  --connections N             transfers at once (default 4)\n"
"  --limit-upload KIB          upload at most KIB KiB/s\n"
"  --cache-dir DIR             cache of a remote repository's metadata\n"
"                              (default $XDG_CACHE_HOME/gfsbackup or\n"
"                              ~/.cache/gfsbackup; GFSBACKUP_CACHE_DIR)\n"
"  --no-cache                  read everything from the repository\n"
"  --as-of 'YYYY-MM-DD HH:MM:SS'  read the repository as it stood at that\n"
"                              local time (a versioned bucket; snapshots,\n"
"                              ls, restore, verify, sync's source only)\n"
"  --retry-lock DURATION       wait up to DURATION (30s, 10m, 2h) for\n"
"                              another process's lock to go (default: fail\n"
"                              at once, exit 11)\n";

/* --as-of: a moment of the past, in local time like every --time. */
static int
parse_as_of(struct cli *c, const char *arg)
{
	struct gfsb_time t, now;

	if (gfsb_time_parse_local(arg, &t) != GFSB_OK) {
		cli_usage_error(c, "invalid --as-of %s: give 'YYYY-MM-DD "
		    "HH:MM:SS'", arg);
		return -1;
	}
	gfsb_time_now(&now);
	if (t.sec > now.sec) {
		cli_usage_error(c, "--as-of %s is in the future: give a moment "
		    "of the past", arg);
		return -1;
	}
	if (t.sec <= 0) {
		cli_usage_error(c, "--as-of %s is before 1970", arg);
		return -1;
	}
	c->as_of = t.sec;
	return 0;
}

/* Levenshtein distance of a and b, or more than max (stops early). */
static size_t
distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[64], prev, tmp;

	if (la >= sizeof(d) / sizeof(d[0]) || lb >= sizeof(d) / sizeof(d[0]))
		return max + 1;
	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = d[j];
			d[j] = a[i - 1] == b[j - 1] ? prev : 1 + (prev < d[j] ?
			    (prev < d[j - 1] ? prev : d[j - 1]) :
			    (d[j] < d[j - 1] ? d[j] : d[j - 1]));
			prev = tmp;
		}
	}
	return d[lb];
}

const char *
cli_closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t i, k, bestd = 3; /* at most 2 edits away */

	for (i = 0; i < n; i++)
		if ((k = distance(word, cands[i], 2)) < bestd) {
			bestd = k;
			best = cands[i];
		}
	return best;
}

/* After getopt's own complaint: the long option meant, if one is close. */
static void
suggest_option(struct cli *c, const char *arg, const struct option *longopts)
{
	const char *names[128], *best;
	char word[64];
	size_t n = 0;

	if (arg == NULL || strncmp(arg, "--", 2) != 0)
		return;
	snprintf(word, sizeof(word), "%s", arg + 2);
	word[strcspn(word, "=")] = '\0';
	for (; longopts->name != NULL && n < 128; longopts++)
		names[n++] = longopts->name;
	if ((best = cli_closest(word, names, n)) != NULL)
		fprintf(stderr, "%s: %s: did you mean --%s?\n", c->prog,
		    c->cmd, best);
}

int
cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	char *end;
	long v;
	int o;

	for (;;) {
		o = getopt_long(argc, argv, shortopts, longopts, NULL);
		switch (o) {
		case -1:
			/* A past state cannot be written to: say so before
			 * anything is opened. */
			if (c->as_of != 0 && !c->as_of_ok) {
				cli_usage_error(c, "--as-of reads a past state: "
				    "it cannot be used with %s", c->cmd);
				return '?';
			}
			return -1;
		case OPT_AS_OF:
			if (parse_as_of(c, optarg) != 0)
				return '?';
			break;
		case OPT_RETRY_LOCK:
			if (gfsb_gfs_margin_parse(optarg, &c->retry_lock) !=
			    GFSB_OK || c->retry_lock <= 0) {
				cli_usage_error(c, "invalid --retry-lock %s: give "
				    "a duration like 30s, 10m or 2h", optarg);
				return '?';
			}
			break;
		case OPT_REPO:
			c->repo = optarg;
			break;
		case OPT_PASSWORD_FILE:
			c->password_file = optarg;
			break;
		case OPT_PASSWORD_COMMAND:
			c->password_command = optarg;
			break;
		case OPT_QUIET:
			c->quiet = 1;
			break;
		case OPT_VERBOSE:
			c->verbose++;
			break;
		case OPT_HELP:
			fputs(c->usage ? c->usage : "", stdout);
			fputs(cli_global_usage, stdout);
			exit(EXIT_OK);
		case OPT_S3_ENDPOINT:
			c->remote.s3_endpoint = optarg;
			break;
		case OPT_S3_REGION:
			c->remote.s3_region = optarg;
			break;
		case OPT_S3_CREDENTIALS:
			c->remote.s3_credentials_file = optarg;
			break;
		case OPT_S3_VHOST:
			c->remote.s3_virtual_host = 1;
			break;
		case OPT_CACERT:
			c->remote.cacert = optarg;
			break;
		case OPT_CONNECTIONS:
			if (cli_number(c, "--connections", optarg, 1,
			    GFSB_CONNECTIONS_MAX, &v) != 0) {
				return '?';
			}
			c->remote.connections = (int)v;
			break;
		case OPT_LIMIT_UPLOAD:
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1) {
				cli_usage_error(c, "invalid --limit-upload %s "
				    "(KiB/s)", optarg);
				return '?';
			}
			c->remote.limit_upload = (uint64_t)v * 1024;
			break;
		case OPT_CACHE_DIR:
			if (*optarg != '/') {
				cli_usage_error(c, "--cache-dir %s: give an "
				    "absolute path", optarg);
				return '?';
			}
			c->cache_dir = optarg;
			break;
		case OPT_NO_CACHE:
			c->no_cache = 1;
			break;
		case '?':
		case ':':
			if (o == '?' && optind > 0 && optind <= argc)
				suggest_option(c, argv[optind - 1], longopts);
			fprintf(stderr, "%s: %s: see `%s %s --help`\n",
			    c->prog, c->cmd, c->prog, c->cmd);
			return '?';
		default:
			return o;
		}
	}
}

/* Strip one trailing newline (and CR); refuse empty or embedded NULs. */
static int
finish_pass(struct cli *c, char *buf, size_t n, const char *from,
    size_t *len)
{
	if (memchr(buf, '\0', n) != NULL) {
		fprintf(stderr, "%s: %s: passphrase from %s contains a NUL "
		    "byte\n", c->prog, c->cmd, from);
		return EXIT_FATAL;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n == 0) {
		fprintf(stderr, "%s: %s: empty passphrase from %s\n", c->prog,
		    c->cmd, from);
		return EXIT_FATAL;
	}
	*len = n;
	return EXIT_OK;
}

/* Read up to the first newline from fd into secure memory. */
static int
read_line_fd(int fd, char *buf, size_t cap, size_t *n)
{
	ssize_t r;
	size_t k = 0;
	char ch;

	for (;;) {
		r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if (k + 1 >= cap)
			return -2;
		buf[k++] = ch;
		if (ch == '\n')
			break;
	}
	*n = k;
	return 0;
}

int
cli_passphrase_file(struct cli *c, const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t n;
	int fd, r, rc;

	if ((buf = gfsb_crypto_secure_alloc(PASS_MAX)) == NULL)
		return EXIT_FATAL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		/* A configuration error: nothing was done (exit 2). */
		fprintf(stderr, "%s: %s: cannot read password file %s: %s\n",
		    c->prog, c->cmd, path, strerror(errno));
		gfsb_crypto_secure_free(buf);
		return EXIT_USAGE;
	}
	/* Like ssh with a private key: a passphrase others can read is a
	 * mistake to stop at, not to use. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 077) != 0) {
		fprintf(stderr, "%s: %s: password file %s is accessible to "
		    "other users (mode %04o): chmod 600 it\n", c->prog, c->cmd,
		    path, (unsigned)(st.st_mode & 07777));
		close(fd);
		gfsb_crypto_secure_free(buf);
		return EXIT_USAGE;
	}
	r = read_line_fd(fd, buf, PASS_MAX, &n);
	close(fd);
	if (r != 0) {
		fprintf(stderr, "%s: %s: cannot read password file %s: %s\n",
		    c->prog, c->cmd, path, r == -2 ? "line too long" :
		    strerror(errno));
		gfsb_crypto_secure_free(buf);
		return EXIT_FATAL;
	}
	if ((rc = finish_pass(c, buf, n, path, len)) != EXIT_OK) {
		gfsb_crypto_secure_free(buf);
		return rc;
	}
	*out = buf;
	return EXIT_OK;
}

static int
pass_command(struct cli *c, const char *cmd, char **out, size_t *len)
{
	char *buf, drain[256];
	int pfd[2], status, r, rc;
	size_t n = 0;
	pid_t pid;

	if ((buf = gfsb_crypto_secure_alloc(PASS_MAX)) == NULL)
		return EXIT_FATAL;
	if (pipe2(pfd, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		fprintf(stderr, "%s: %s: cannot run password command: %s\n",
		    c->prog, c->cmd, strerror(errno));
		gfsb_crypto_secure_free(buf);
		return EXIT_FATAL;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	r = read_line_fd(pfd[0], buf, PASS_MAX, &n);
	while (read(pfd[0], drain, sizeof(drain)) > 0)
		;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s: %s: password command failed\n", c->prog,
		    c->cmd);
		gfsb_crypto_secure_free(buf);
		return EXIT_FATAL;
	}
	if ((rc = finish_pass(c, buf, n, "the password command", len)) !=
	    EXIT_OK) {
		gfsb_crypto_secure_free(buf);
		return rc;
	}
	*out = buf;
	return EXIT_OK;
}

static int
prompt_tty(struct cli *c, const char *prompt, char *buf, size_t *n)
{
	struct termios old, quiet;
	int fd, r, have;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
		return -1;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		close(fd);
		return -1;
	}
	have = tcgetattr(fd, &old) == 0;
	if (have) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	r = read_line_fd(fd, buf, PASS_MAX, n);
	if (have)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		r = -1;
	close(fd);
	(void)c;
	return r;
}

int
cli_passphrase(struct cli *c, int confirm, const char *prompt, char **out,
    size_t *len)
{
	const char *env;
	char *buf = NULL, *again = NULL;
	size_t n, n2;
	int rc;

	if (c->password_file != NULL)
		return cli_passphrase_file(c, c->password_file, out, len);
	if (c->password_command != NULL)
		return pass_command(c, c->password_command, out, len);
	if ((env = getenv("GFSBACKUP_PASSWORD_FILE")) != NULL && *env)
		return cli_passphrase_file(c, env, out, len);
	if ((env = getenv("GFSBACKUP_PASSWORD_COMMAND")) != NULL && *env)
		return pass_command(c, env, out, len);
	if ((env = getenv("GFSBACKUP_PASSWORD")) != NULL && *env) {
		n = strlen(env);
		if (n >= PASS_MAX ||
		    (buf = gfsb_crypto_secure_alloc(PASS_MAX)) == NULL)
			return EXIT_FATAL;
		memcpy(buf, env, n + 1);
		/* Leave no copy in the environment (children, /proc). */
		explicit_bzero((char *)(uintptr_t)env, n);
		unsetenv("GFSBACKUP_PASSWORD");
		*out = buf;
		*len = n;
		return EXIT_OK;
	}
	if ((buf = gfsb_crypto_secure_alloc(PASS_MAX)) == NULL ||
	    (again = gfsb_crypto_secure_alloc(PASS_MAX)) == NULL) {
		gfsb_crypto_secure_free(buf);
		return EXIT_FATAL;
	}
	rc = EXIT_USAGE; /* no passphrase: nothing was done */
	if (prompt_tty(c, prompt, buf, &n) != 0) {
		fprintf(stderr, "%s: %s: no passphrase: use --password-file, "
		    "GFSBACKUP_PASSWORD_FILE, --password-command or a "
		    "terminal\n", c->prog, c->cmd);
		goto out;
	}
	if ((rc = finish_pass(c, buf, n, "the terminal", len)) != EXIT_OK)
		goto out;
	if (confirm) {
		rc = EXIT_FATAL;
		if (prompt_tty(c, "enter it again: ", again, &n2) != 0 ||
		    finish_pass(c, again, n2, "the terminal", &n2) !=
		    EXIT_OK)
			goto out;
		if (n2 != *len || memcmp(buf, again, n2) != 0) {
			fprintf(stderr, "%s: %s: the passphrases do not "
			    "match\n", c->prog, c->cmd);
			goto out;
		}
		rc = EXIT_OK;
	}
out:
	gfsb_crypto_secure_free(again);
	if (rc != EXIT_OK) {
		gfsb_crypto_secure_free(buf);
		return rc;
	}
	*out = buf;
	return EXIT_OK;
}

static int
open_url(struct cli *c, const char *url, int64_t as_of,
    struct gfsb_backend **out)
{
	struct gfsb_backend_opts o = c->remote;
	gfsb_err e;
	int rc;

	o.as_of = as_of;
	if ((e = gfsb_backend_open_opts(c->ctx, url, &o, out)) == GFSB_OK)
		return EXIT_OK;
	rc = cli_fail(c, e);
	/* A malformed URL or endpoint is a usage error; so is --as-of where
	 * there is no past to read (a directory, an unversioned bucket). */
	return e == GFSB_EINVAL ? EXIT_USAGE : rc;
}

int
cli_open_url(struct cli *c, const char *url, struct gfsb_backend **out)
{
	return open_url(c, url, 0, out);
}

int
cli_open_backend(struct cli *c)
{
	if (c->repo == NULL)
		c->repo = getenv("GFSBACKUP_REPOSITORY");
	if (c->repo == NULL || *c->repo == '\0')
		return cli_usage_error(c, "no repository: give -r REPO or "
		    "set GFSBACKUP_REPOSITORY");
	return open_url(c, c->repo, c->as_of, &c->be);
}

int
cli_open_repo(struct cli *c)
{
	char *pass = NULL;
	size_t len = 0;
	gfsb_err e;
	int rc;

	if ((rc = cli_open_backend(c)) != EXIT_OK)
		return rc;
	/* Say the repository is missing before asking for a passphrase. */
	if ((e = gfsb_repo_probe(c->ctx, c->be)) != GFSB_OK)
		return cli_fail(c, e);
	if ((rc = cli_passphrase(c, 0, "repository passphrase: ", &pass,
	    &len)) != EXIT_OK)
		return rc;
	e = gfsb_repo_open(c->ctx, c->be, pass, len, &c->r);
	gfsb_crypto_secure_free(pass);
	if (e != GFSB_OK)
		return cli_fail(c, e);
	gfsb_repo_set_lock_wait(c->r, c->retry_lock);
	return cli_apply_cache(c);
}

int
cli_lock_mode(struct cli *c, const char *arg, enum gfsb_lock_mode *m)
{
	if (gfsb_lock_mode_parse(arg, m) != GFSB_OK || *m == GFSB_LOCK_NONE)
		return cli_usage_error(c, "invalid --object-lock %s: give "
		    "compliance or governance", arg);
	return EXIT_OK;
}

int
cli_apply_cache(struct cli *c)
{
	gfsb_err e = GFSB_OK;

	/* Remote repositories have the default cache already. */
	if (c->no_cache)
		e = gfsb_repo_set_cache(c->r, NULL);
	else if (c->cache_dir != NULL && gfsb_backend_is_remote(c->be))
		e = gfsb_repo_set_cache(c->r, c->cache_dir);
	return e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
}

void
cli_close(struct cli *c)
{
	gfsb_repo_close(c->r);
	c->r = NULL;
	gfsb_backend_close(c->be);
	c->be = NULL;
}

int
cli_strv_add(const char ***v, size_t *n, const char *s)
{
	const char **grown;

	if ((grown = realloc(*v, (*n + 1) * sizeof(**v))) == NULL)
		return -1;
	grown[(*n)++] = s;
	*v = grown;
	return 0;
}
