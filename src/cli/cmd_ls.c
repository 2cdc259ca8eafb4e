/*
 * gfsbackup ls: list the files in a snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "cli.h"

static const char usage[] =
"usage: gfsbackup ls -r REPO [-l] [--host HOST] SNAPSHOT [PATH]\n"
"\n"
"List the entries of a snapshot (an id prefix or \"latest\") under PATH\n"
"(default: everything), one absolute path per line.  -l adds the type\n"
"and mode, owner, size and modification time.\n";

static void
mode_string(const struct gfsb_node *n, char *s)
{
	static const char kinds[] = "?-dlpcbs";

	s[0] = kinds[n->kind < 8 ? n->kind : 0];
	s[1] = n->mode & S_IRUSR ? 'r' : '-';
	s[2] = n->mode & S_IWUSR ? 'w' : '-';
	s[3] = n->mode & S_ISUID ? (n->mode & S_IXUSR ? 's' : 'S') :
	    (n->mode & S_IXUSR ? 'x' : '-');
	s[4] = n->mode & S_IRGRP ? 'r' : '-';
	s[5] = n->mode & S_IWGRP ? 'w' : '-';
	s[6] = n->mode & S_ISGID ? (n->mode & S_IXGRP ? 's' : 'S') :
	    (n->mode & S_IXGRP ? 'x' : '-');
	s[7] = n->mode & S_IROTH ? 'r' : '-';
	s[8] = n->mode & S_IWOTH ? 'w' : '-';
	s[9] = n->mode & S_ISVTX ? (n->mode & S_IXOTH ? 't' : 'T') :
	    (n->mode & S_IXOTH ? 'x' : '-');
	s[10] = '\0';
}

struct lsarg {
	int lng;
};

static gfsb_err
print_entry(void *cookie, const char *path, const struct gfsb_node *n)
{
	struct lsarg *a = cookie;
	char mode[11], when[32], user[16], group[16];

	if (!a->lng) {
		printf("%s\n", path);
		return GFSB_OK;
	}
	mode_string(n, mode);
	gfsb_time_format_local(&n->mtime, when, sizeof(when));
	if (n->user != NULL)
		snprintf(user, sizeof(user), "%s", n->user);
	else
		snprintf(user, sizeof(user), "%u", n->uid);
	if (n->group != NULL)
		snprintf(group, sizeof(group), "%s", n->group);
	else
		snprintf(group, sizeof(group), "%u", n->gid);
	printf("%s %-8s %-8s %12llu %s %s%s%s\n", mode, user, group,
	    (unsigned long long)n->size, when, path,
	    n->kind == GFSB_NODE_SYMLINK ? " -> " : "",
	    n->kind == GFSB_NODE_SYMLINK ? n->target : "");
	return GFSB_OK;
}

int
cmd_ls(struct cli *c, int argc, char **argv)
{
	struct lsarg a = { 0 };
	const char *host = NULL;
	gfsb_err e;
	int rc;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG("long", 'l', &a.lng),
		CLI_OPT_STRING("host", 0, &host),
		CLI_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, usage, opts, 2)) != EXIT_OK)
		return rc;
	if (optind == argc)
		return cli_usage_error(c, "which snapshot? give an id or "
		    "\"latest\"");
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	e = gfsb_ops_ls(c->r, argv[optind], host,
	    argc - optind == 2 ? argv[optind + 1] : NULL, print_entry, &a,
	    NULL);
	if (e != GFSB_OK)
		return cli_fail(c, e);
	return EXIT_OK;
}
