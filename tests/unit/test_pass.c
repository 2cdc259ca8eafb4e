/* pass: passphrase sources as the library reads them (gfsb_pass_read): a
 * file only its owner may read, a command's first line, the environment
 * (GFSBACKUP_PASSWORD wiped and removed once taken), in that order, and
 * what is refused, with the error code that tells the program whether
 * anything was done.  Runs without a terminal: ctest gives it none, and
 * the case that needs none makes sure in a child of its own session. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/pass.h>

#include "fixture.h"

static char dir[64], pw[128];
static struct gfsb_ctx *ctx;

static void
clear_env(void)
{
	unsetenv("GFSBACKUP_PASSWORD_FILE");
	unsetenv("GFSBACKUP_PASSWORD_COMMAND");
	unsetenv("GFSBACKUP_PASSWORD");
}

/* Before each test: none of the variables set. */
static int
fresh(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	clear_env();
	fx_tmpdir(dir, sizeof(dir), "pass");
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	return gfsb_ctx_new(&ctx) == GFSB_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	clear_env();
	fx_rm_rf(dir);
	gfsb_ctx_free(ctx);
	return 0;
}

/* n bytes of p in the file pw, with mode. */
static void
write_pw(const void *p, size_t n, mode_t mode)
{
	FILE *f;

	unlink(pw);
	assert_non_null(f = fopen(pw, "w"));
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(pw, mode), 0);
}

/* src gives exactly want. */
static void
reads(const struct gfsb_pass_source *src, const char *want)
{
	char *out = NULL;
	size_t len = 0;

	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_pass_read(ctx, src, &out, &len), GFSB_OK);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len + 1);
	gfsb_crypto_secure_free(out);
}

/* src is refused with e and a detail holding what; *out is untouched. */
static void
refused(const struct gfsb_pass_source *src, gfsb_err e, const char *what)
{
	char *out = NULL;
	size_t len = 7;

	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_pass_read(ctx, src, &out, &len), e);
	assert_null(out);
	assert_int_equal(len, 7);
	if (strstr(gfsb_ctx_errmsg(ctx), what) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", gfsb_ctx_errmsg(ctx),
		    what);
}

/* The first line of a private file; one "\n" and one "\r" stripped. */
static void
test_file_lines(void **state)
{
	struct gfsb_pass_source src = { .file = pw };

	(void)state;
	write_pw("secret\n", 7, 0600);
	reads(&src, "secret");
	write_pw("secret\r\n", 8, 0600);
	reads(&src, "secret");
	write_pw("secret", 6, 0400);
	reads(&src, "secret");
	write_pw("one\ntwo\n", 8, 0600);
	reads(&src, "one");
	write_pw("sp ace \r\r\n", 10, 0600);
	reads(&src, "sp ace \r");
}

/* Refused before anything is read (GFSB_EINVAL): others may read the
 * file, or it is not there. */
static void
test_file_unusable(void **state)
{
	struct gfsb_pass_source src = { .file = pw };

	(void)state;
	write_pw("secret\n", 7, 0644);
	refused(&src, GFSB_EINVAL, "password file");
	refused(&src, GFSB_EINVAL, "is accessible to other users (mode "
	    "0644): chmod 600 it");
	assert_int_equal(chmod(pw, 0620), 0);
	refused(&src, GFSB_EINVAL, "(mode 0620)");
	assert_int_equal(chmod(pw, 0604), 0);
	refused(&src, GFSB_EINVAL, "(mode 0604)");
	unlink(pw);
	refused(&src, GFSB_EINVAL, "cannot read password file");
	refused(&src, GFSB_EINVAL, "No such file");
}

/* Read, but no passphrase (GFSB_EIO): empty, a NUL, too long. */
static void
test_file_refused(void **state)
{
	struct gfsb_pass_source src = { .file = pw };
	char *big;

	(void)state;
	write_pw("\n", 1, 0600);
	refused(&src, GFSB_EIO, "empty passphrase");
	write_pw("\r\n", 2, 0600);
	refused(&src, GFSB_EIO, "empty passphrase");
	write_pw("", 0, 0600);
	refused(&src, GFSB_EIO, "empty passphrase");
	write_pw("a\0b\n", 4, 0600);
	refused(&src, GFSB_EIO, "contains a NUL byte");
	/* The longest line that fits, its newline included, then one more
	 * byte. */
	assert_non_null(big = malloc(GFSB_PASS_MAX + 1));
	memset(big, 'a', GFSB_PASS_MAX);
	big[GFSB_PASS_MAX - 2] = '\n';
	write_pw(big, GFSB_PASS_MAX - 1, 0600);
	big[GFSB_PASS_MAX - 2] = '\0';
	reads(&src, big);
	big[GFSB_PASS_MAX - 2] = 'a';
	big[GFSB_PASS_MAX - 1] = '\n';
	write_pw(big, GFSB_PASS_MAX, 0600);
	refused(&src, GFSB_EIO, "line too long");
	free(big);
}

/* A pipe has no mode to keep: read whatever its mode says. */
static void
test_file_fifo(void **state)
{
	struct gfsb_pass_source src = { .file = pw };
	pid_t pid;
	FILE *f;

	(void)state;
	unlink(pw);
	assert_int_equal(mkfifo(pw, 0644), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		f = fopen(pw, "w");
		_exit(f != NULL && fputs("fifo pass\n", f) >= 0 &&
		    fclose(f) == 0 ? 0 : 1);
	}
	reads(&src, "fifo pass");
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	unlink(pw);
}

static void
test_command(void **state)
{
	struct gfsb_pass_source src = { .command = "printf 'cmd pass\\r\\n"
	    "second\\n'" };

	(void)state;
	reads(&src, "cmd pass");
	src.command = "echo cmd pass; exit 3";
	refused(&src, GFSB_EIO, "password command failed");
	src.command = "echo cmd pass; kill -9 $$";
	refused(&src, GFSB_EIO, "password command failed");
	src.command = "true";
	refused(&src, GFSB_EIO, "empty passphrase from the password "
	    "command");
	src.command = "printf 'a\\000b'";
	refused(&src, GFSB_EIO, "contains a NUL byte");
	/* Read to the end all the same: a long output is no SIGPIPE. */
	src.command = "head -c 100000 /dev/zero | tr '\\000' a";
	refused(&src, GFSB_EIO, "line too long");
}

/* GFSBACKUP_PASSWORD is taken, then wiped and gone from the
 * environment; without use_env it is left alone. */
static void
test_env_password(void **state)
{
	static char var[] = "GFSBACKUP_PASSWORD=env pass";
	struct gfsb_pass_source src = { .use_env = 0 };
	char *value = strchr(var, '=') + 1;

	(void)state;
	assert_int_equal(putenv(var), 0);
	refused(&src, GFSB_ENOTFOUND, "no passphrase");
	assert_string_equal(getenv("GFSBACKUP_PASSWORD"), "env pass");
	src.use_env = 1;
	reads(&src, "env pass");
	assert_null(getenv("GFSBACKUP_PASSWORD"));
	assert_memory_equal(value, "\0\0\0\0\0\0\0\0", 9);
	/* Now nothing is left to take. */
	refused(&src, GFSB_ENOTFOUND, "no passphrase");
}

/* --password-file, --password-command, GFSBACKUP_PASSWORD_FILE,
 * GFSBACKUP_PASSWORD_COMMAND, GFSBACKUP_PASSWORD: the first given is
 * used; an empty variable is none. */
static void
test_precedence(void **state)
{
	char other[160];
	struct gfsb_pass_source src = { .file = pw,
	    .command = "echo from command", .use_env = 1 };

	(void)state;
	snprintf(other, sizeof(other), "%s/other", dir);
	write_pw("from file\n", 10, 0600);
	assert_int_equal(rename(pw, other), 0);
	write_pw("from env file\n", 14, 0600);
	src.file = other;
	setenv("GFSBACKUP_PASSWORD_FILE", pw, 1);
	setenv("GFSBACKUP_PASSWORD_COMMAND", "echo from env command", 1);
	setenv("GFSBACKUP_PASSWORD", "from env", 1);
	reads(&src, "from file");
	src.file = NULL;
	reads(&src, "from command");
	src.command = NULL;
	reads(&src, "from env file");
	setenv("GFSBACKUP_PASSWORD_FILE", "", 1);
	reads(&src, "from env command");
	unsetenv("GFSBACKUP_PASSWORD_FILE");
	setenv("GFSBACKUP_PASSWORD_COMMAND", "", 1);
	/* The two sources before it left GFSBACKUP_PASSWORD alone. */
	reads(&src, "from env");
	/* A source given that fails is the answer: no falling back. */
	setenv("GFSBACKUP_PASSWORD", "from env", 1);
	src.command = "exit 1";
	refused(&src, GFSB_EIO, "password command failed");
	src.file = dir;
	refused(&src, GFSB_EIO, "cannot read password file");
	assert_string_equal(getenv("GFSBACKUP_PASSWORD"), "from env");
	unlink(other);
}

/* No source and no terminal: GFSB_ENOTFOUND, so the program can say
 * which sources there are.  The prompt runs in a child that has left
 * its controlling terminal (setsid), whatever ran the test. */
static void
test_no_source(void **state)
{
	struct gfsb_pass_source src = { .use_env = 1 };
	char *out = NULL;
	size_t len;
	pid_t pid;
	int status;

	(void)state;
	refused(&src, GFSB_ENOTFOUND, "no passphrase");
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		if (setsid() < 0)
			_exit(2);
		src.prompt = "passphrase: ";
		src.confirm = 1;
		gfsb_ctx_clearerr(ctx);
		_exit(gfsb_pass_read(ctx, &src, &out, &len) ==
		    GFSB_ENOTFOUND && out == NULL &&
		    strstr(gfsb_ctx_errmsg(ctx), "no terminal") != NULL ?
		    0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Read from the pty master m until its output ends with what; all of it
 * (NUL-terminated) appended to log. */
static void
wait_output(int m, const char *what, char *log, size_t cap)
{
	size_t n = strlen(log), k = strlen(what);
	ssize_t r;

	while (n < k || strcmp(log + n - k, what) != 0) {
		assert_true(n + 1 < cap);
		r = read(m, log + n, cap - 1 - n);
		assert_true(r > 0);
		n += (size_t)r;
		log[n] = '\0';
	}
}

/* Wait for the prompt, then for echo to be off (what is typed before
 * that is flushed, as it would be for a person), then type line. */
static void
type_line(int m, int s, const char *prompt, const char *line, char *log,
    size_t cap)
{
	struct termios t;
	int i;

	wait_output(m, prompt, log, cap);
	for (i = 0; i < 5000; i++) {
		assert_int_equal(tcgetattr(s, &t), 0);
		if ((t.c_lflag & ECHO) == 0)
			break;
		usleep(1000);
	}
	assert_int_equal(t.c_lflag & ECHO, 0);
	assert_int_equal(write(m, line, strlen(line)), (ssize_t)strlen(line));
}

/* In a child whose controlling terminal is a new pty: the answer to
 * prompt (asked twice with confirm) typed as the lines given.  The
 * child's exit status: 0 if it read want, else the gfsb_err + 100. */
static int
on_pty(int confirm, const char *a1, const char *a2, const char *want,
    char *log, size_t cap)
{
	struct gfsb_pass_source src = { .prompt = "pass: ",
	    .confirm = confirm };
	char *out = NULL;
	size_t len;
	int m, s, status;
	gfsb_err e;
	pid_t pid;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY)) < 0)
		skip(); /* no ptys here (a container without /dev/pts) */
	alarm(30); /* a prompt that never comes fails the test */
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	assert_true((s = open(ptsname(m), O_RDWR | O_NOCTTY)) >= 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		if (setsid() < 0 || ioctl(s, TIOCSCTTY, 0) != 0)
			_exit(99);
		e = gfsb_pass_read(ctx, &src, &out, &len);
		if (e == GFSB_OK)
			_exit(want != NULL && strcmp(out, want) == 0 &&
			    len == strlen(want) ? 0 : 98);
		_exit(100 + (int)e);
	}
	log[0] = '\0';
	type_line(m, s, "pass: ", a1, log, cap);
	if (a2 != NULL)
		type_line(m, s, "enter it again: ", a2, log, cap);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	alarm(0);
	close(s);
	close(m);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* The terminal: echo off (nothing typed shows), the line stripped, asked
 * twice with confirm, and two different answers refused. */
static void
test_prompt(void **state)
{
	char log[256];

	(void)state;
	assert_int_equal(on_pty(0, "typed one\r\n", NULL, "typed one", log,
	    sizeof(log)), 0);
	assert_null(strstr(log, "typed"));
	assert_int_equal(on_pty(1, "typed two\n", "typed two\n",
	    "typed two", log, sizeof(log)), 0);
	assert_null(strstr(log, "typed"));
	assert_int_equal(on_pty(1, "typed three\n", "typed 3\n", NULL, log,
	    sizeof(log)), 100 + GFSB_EIO);
	assert_int_equal(on_pty(0, "\n", NULL, NULL, log, sizeof(log)),
	    100 + GFSB_EIO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_file_lines, fresh),
		cmocka_unit_test_setup(test_file_unusable, fresh),
		cmocka_unit_test_setup(test_file_refused, fresh),
		cmocka_unit_test_setup(test_file_fifo, fresh),
		cmocka_unit_test_setup(test_command, fresh),
		cmocka_unit_test_setup(test_env_password, fresh),
		cmocka_unit_test_setup(test_precedence, fresh),
		cmocka_unit_test_setup(test_no_source, fresh),
		cmocka_unit_test_setup(test_prompt, fresh),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
