/*
 * The daily job's hooks ([hooks] before, after, on-error): a command run
 * by /bin/sh in a process group of its own, its output kept to name its
 * failure (the last line it wrote), killed with the group when it
 * overstays its timeout (SIGTERM, then SIGKILL 5 s later).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gfsbackup/ops.h>

#define TAIL 512	/* the output kept: its last bytes */

/* The child: its own group, output into the pipe, the environment. */
static void
child(const char *cmd, int out, char *const *env)
{
	size_t i;

	setpgid(0, 0);
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	for (i = 0; env != NULL && env[i] != NULL; i++)
		putenv(env[i]);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Read what the hook writes until it closes its end or time is up;
 * keep the tail in buf.  0 when it closed, -1 when time ran out. */
static int
drain(int fd, double deadline, char *buf, size_t *n)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char chunk[4096];
	ssize_t r;
	int wait;

	for (;;) {
		wait = (int)((deadline - gfsb_monotonic_seconds()) * 1000);
		if (wait <= 0)
			return -1;
		if (poll(&p, 1, wait) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p.revents == 0)
			continue;
		if ((r = read(fd, chunk, sizeof(chunk))) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		if ((size_t)r >= TAIL) {
			memcpy(buf, chunk + r - TAIL, TAIL);
			*n = TAIL;
		} else {
			if (*n + (size_t)r > TAIL) {
				memmove(buf, buf + *n + (size_t)r - TAIL,
				    TAIL - (size_t)r);
				*n = TAIL - (size_t)r;
			}
			memcpy(buf + *n, chunk, (size_t)r);
			*n += (size_t)r;
		}
	}
}

/* The last non-empty line of what the hook wrote, into why. */
static void
last_line(char *buf, size_t n, char *why, size_t len)
{
	char *end, *start;

	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
	    buf[n - 1] == ' '))
		buf[--n] = '\0';
	start = (end = strrchr(buf, '\n')) != NULL ? end + 1 : buf;
	snprintf(why, len, "%s", start);
}

/* Wait for pid, killing its group first when it overstayed. */
static int
reap(pid_t pid, int late)
{
	int status = 0, i;

	if (late) {
		kill(-pid, SIGTERM);
		for (i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; i++)
			usleep(100000);
		kill(-pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

gfsb_err
gfsb_ops_hook_run(struct gfsb_ctx *ctx, const char *name, const char *cmd,
    int64_t timeout, char *const *env)
{
	char tail[TAIL + 1], last[TAIL + 1];
	size_t n = 0;
	int pfd[2], late, status;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) != 0 || (pid = fork()) < 0)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "%s hook: cannot run it: "
		    "%s", name, strerror(errno));
	if (pid == 0)
		child(cmd, pfd[1], env);
	setpgid(pid, pid);	/* whichever runs first */
	close(pfd[1]);
	late = drain(pfd[0], gfsb_monotonic_seconds() + (double)(timeout > 0 ?
	    timeout : GFSB_HOOK_TIMEOUT), tail, &n) != 0;
	close(pfd[0]);
	status = reap(pid, late);
	last_line(tail, n, last, sizeof(last));
	if (late)
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "%s hook: killed after "
		    "%lld s%s%s", name, (long long)(timeout > 0 ? timeout :
		    GFSB_HOOK_TIMEOUT), *last ? ": " : "", last);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return GFSB_OK;
	if (WIFSIGNALED(status))
		return gfsb_ctx_seterr(ctx, GFSB_EIO, "%s hook: killed by "
		    "signal %d%s%s", name, WTERMSIG(status), *last ? ": " : "",
		    last);
	return gfsb_ctx_seterr(ctx, GFSB_EIO, "%s hook: exit status %d%s%s",
	    name, WEXITSTATUS(status), *last ? ": " : "", last);
}
