/*
 * Facts about the running system recorded in snapshots, keys and locks,
 * whole reads and writes of file descriptors, the permission rule for
 * files that hold secrets, and the hardening of a process that holds
 * keys.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gfsbackup/util.h>

void
gfsb_sys_harden(void)
{
	struct rlimit rl = { 0, 0 };

	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	unsetenv("SSLKEYLOGFILE");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

void
gfsb_sys_hostname(char *buf, size_t len)
{
	char *dot;

	if (gethostname(buf, len) != 0 || len == 0) {
		snprintf(buf, len, "localhost");
		return;
	}
	buf[len - 1] = '\0';
	if ((dot = strchr(buf, '.')) != NULL)
		*dot = '\0';
}

void
gfsb_sys_username(char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];
	uid_t uid = geteuid();

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res != NULL)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
}

int
gfsb_sys_write_full(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, b, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
gfsb_sys_pread_full(int fd, void *p, size_t n, uint64_t off)
{
	uint8_t *b = p;
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pread(fd, b + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

int
gfsb_sys_mkdirs(const char *path)
{
	char p[PATH_MAX];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(p))
		return ENAMETOOLONG;
	memcpy(p, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return errno;
		p[i] = i == n ? '\0' : '/';
	}
	return 0;
}

int
gfsb_sys_private(const char *path, mode_t mode, char *why, size_t len)
{
	if ((mode & 077) == 0)
		return 0;
	snprintf(why, len, "%s is accessible to other users (mode %04o): "
	    "chmod 600 it", path, (unsigned)(mode & 07777));
	return -1;
}
