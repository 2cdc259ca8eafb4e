/*
 * Passphrase sources: a file, a command, the environment, the terminal.
 *
 * Every byte of a passphrase goes straight into one secure buffer of
 * GFSB_PASS_MAX bytes (read one byte at a time, so nothing past the first
 * line is ever read from a file or the terminal) and is wiped when that
 * buffer is freed, on every path.  A module of its own, not part of util:
 * it needs crypto's secure memory, and runs processes and opens the
 * terminal, which nothing below the program otherwise does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/pass.h>

/* Strip one trailing newline (and CR); refuse empty or embedded NULs. */
static gfsb_err
finish(struct gfsb_ctx *ctx, char *buf, size_t n, const char *from,
    size_t *len)
{
	if (memchr(buf, '\0', n) != NULL)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "passphrase from %s "
		    "contains a NUL byte", from);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n == 0)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "empty passphrase "
		    "from %s", from);
	*len = n;
	return GFSB_OK;
}

/* Read up to the first newline from fd into buf: 0; -1 (errno) on a read
 * error; -2 when the line does not fit in GFSB_PASS_MAX - 1 bytes. */
static int
read_line(int fd, char *buf, size_t *n)
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
		if (k + 1 >= GFSB_PASS_MAX)
			return -2;
		buf[k++] = ch;
		if (ch == '\n')
			break;
	}
	*n = k;
	return 0;
}

static gfsb_err
from_file(struct gfsb_ctx *ctx, const char *path, char *buf, size_t *len)
{
	char why[PATH_MAX + 80];
	struct stat st;
	size_t n = 0;
	gfsb_err e;
	int fd, r, err;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "cannot read password "
		    "file %s: %s", path, strerror(errno));
	/* Like ssh with a private key: a passphrase others can read is a
	 * mistake to stop at, not to use.  A pipe or a device (<(cmd),
	 * /dev/stdin) has no such mode to keep. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    gfsb_sys_private(path, st.st_mode, why, sizeof(why)) != 0) {
		close(fd);
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "password file %s",
		    why);
	}
	r = read_line(fd, buf, &n);
	err = errno;
	close(fd);
	if (r == -1)
		e = gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot read password "
		    "file %s: %s", path, strerror(err));
	else if (r == -2)
		e = gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot read password "
		    "file %s: line too long", path);
	else
		e = finish(ctx, buf, n, path, len);
	return e;
}

static gfsb_err
from_command(struct gfsb_ctx *ctx, const char *cmd, char *buf, size_t *len)
{
	char drain[256];
	int pfd[2], status, r;
	size_t n = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) != 0)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot run password "
		    "command: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot run password command: "
		    "%s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return GFSB_EIO;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	r = read_line(pfd[0], buf, &n);
	/* The rest too, so that the command never dies of SIGPIPE. */
	while (read(pfd[0], drain, sizeof(drain)) > 0)
		;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "password command "
		    "failed");
	if (r == -2)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "password command "
		    "failed: line too long");
	return finish(ctx, buf, n, "the password command", len);
}

/* GFSBACKUP_PASSWORD's value, then none left in the environment (children,
 * /proc/PID/environ). */
static gfsb_err
from_env(struct gfsb_ctx *ctx, char *env, char *buf, size_t *len)
{
	size_t n = strlen(env);

	if (n >= GFSB_PASS_MAX)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "GFSBACKUP_PASSWORD "
		    "is too long");
	memcpy(buf, env, n + 1);
	explicit_bzero(env, n);
	unsetenv("GFSBACKUP_PASSWORD");
	*len = n;
	return GFSB_OK;
}

/* Ask once on the terminal, echo off.  GFSB_ENOTFOUND: no terminal. */
static gfsb_err
ask(struct gfsb_ctx *ctx, const char *prompt, char *buf, size_t *len)
{
	struct termios old, quiet;
	int fd, r, have, err;
	size_t n = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
		return gfsb_ctx_seterr(ctx, GFSB_ENOTFOUND, "no passphrase "
		    "source, and no terminal to ask on: %s", strerror(errno));
	if (write(fd, prompt, strlen(prompt)) < 0) {
		err = errno;
		close(fd);
		return gfsb_ctx_seterr(ctx, GFSB_ENOTFOUND, "no passphrase "
		    "source, and cannot ask on the terminal: %s",
		    strerror(err));
	}
	have = tcgetattr(fd, &old) == 0;
	if (have) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	r = read_line(fd, buf, &n);
	err = errno;
	if (have)
		tcsetattr(fd, TCSAFLUSH, &old);
	/* The newline typed was not echoed. */
	if (write(fd, "\n", 1) < 0 && r == 0) {
		r = -1;
		err = errno;
	}
	close(fd);
	if (r == -1)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "cannot read the "
		    "passphrase from the terminal: %s", strerror(err));
	if (r == -2)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "passphrase from the "
		    "terminal is too long");
	return finish(ctx, buf, n, "the terminal", len);
}

static gfsb_err
from_tty(struct gfsb_ctx *ctx, const char *prompt, int confirm, char *buf,
    size_t *len)
{
	char *again = NULL;
	size_t n2 = 0;
	gfsb_err e;

	if ((e = ask(ctx, prompt, buf, len)) != GFSB_OK || !confirm)
		return e;
	if ((again = gfsb_crypto_secure_alloc(GFSB_PASS_MAX)) == NULL)
		return GFSB_ENOMEM;
	e = ask(ctx, "enter it again: ", again, &n2);
	if (e == GFSB_OK && (n2 != *len || memcmp(buf, again, n2) != 0))
		e = gfsb_ctx_seterr(ctx, GFSB_EIO, "the passphrases do not "
		    "match");
	gfsb_crypto_secure_free(again);
	return e;
}

/* An environment variable's value, NULL when unset or empty. */
static char *
env_value(const char *name)
{
	char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

gfsb_err
gfsb_pass_read(struct gfsb_ctx *ctx, const struct gfsb_pass_source *src,
    char **out, size_t *len)
{
	const char *file = src->file, *cmd = src->command;
	char *buf, *env = NULL;
	size_t n = 0;
	gfsb_err e;

	if (file == NULL && cmd == NULL && src->use_env) {
		file = env_value("GFSBACKUP_PASSWORD_FILE");
		if (file == NULL)
			cmd = env_value("GFSBACKUP_PASSWORD_COMMAND");
		if (file == NULL && cmd == NULL)
			env = env_value("GFSBACKUP_PASSWORD");
	}
	if ((buf = gfsb_crypto_secure_alloc(GFSB_PASS_MAX)) == NULL)
		return GFSB_ENOMEM;
	if (file != NULL)
		e = from_file(ctx, file, buf, &n);
	else if (cmd != NULL)
		e = from_command(ctx, cmd, buf, &n);
	else if (env != NULL)
		e = from_env(ctx, env, buf, &n);
	else if (src->prompt != NULL)
		e = from_tty(ctx, src->prompt, src->confirm, buf, &n);
	else
		e = gfsb_ctx_seterr(ctx, GFSB_ENOTFOUND, "no passphrase "
		    "source");
	if (e != GFSB_OK) {
		gfsb_crypto_secure_free(buf);
		return e;
	}
	*out = buf;
	*len = n;
	return GFSB_OK;
}
