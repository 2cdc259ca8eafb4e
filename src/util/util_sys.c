/*
 * Facts about the running system recorded in snapshots, keys and locks.
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gfsbackup/util.h>

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
