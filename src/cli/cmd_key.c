/*
 * gfsbackup key passwd|add|list: the repository's key files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/pass.h>
#include <gfsbackup/repo.h>

#include "cli.h"

/* --new-password-file, else only the terminal: the usual sources hold
 * the current passphrase. */
static int
new_pass(struct cli *c, const char *file, char **pass, size_t *len)
{
	struct gfsb_pass_source src = {
		.file = file,
		.prompt = "new passphrase: ",
		.confirm = 1,
	};

	return cli_pass_read(c, &src, pass, len);
}

int
cmd_key(struct cli *c, int argc, char **argv)
{
	struct gfsb_key_info *keys = NULL;
	struct gfsb_lock *lock = NULL;
	const char *newfile = NULL, *verb;
	char *pass = NULL, when[32], id[GFSB_ID_HEX];
	size_t len, n, i;
	gfsb_err e = GFSB_OK;
	int rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_STRING("new-password-file", 0, &newfile),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, GFSB_OPT_ANY_ARGS)) != EXIT_OK)
		return rc;
	if (optind == argc)
		return cli_usage_error(c, "give passwd, add, list or remove");
	verb = argv[optind];
	if (strcmp(verb, "passwd") != 0 && strcmp(verb, "add") != 0 &&
	    strcmp(verb, "list") != 0 && strcmp(verb, "remove") != 0)
		return cli_usage_error(c, "unknown key command %s", verb);
	if (strcmp(verb, "remove") == 0 && argc - optind != 2)
		return cli_usage_error(c, "key remove takes one key id");
	if (strcmp(verb, "remove") != 0 && argc - optind > 1)
		return cli_usage_error(c, "unexpected argument %s",
		    argv[optind + 1]);
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	if (strcmp(verb, "list") == 0) {
		if ((e = gfsb_repo_key_list(c->r, &keys, &n)) != GFSB_OK)
			return cli_fail(c, e);
		printf("  %-8s  %-19s  %-16s  %s\n", "ID", "Created", "Host",
		    "User");
		for (i = 0; i < n; i++) {
			gfsb_time_format_local(&keys[i].created, when,
			    sizeof(when));
			printf("%c %-8.8s  %-19s  %-16s  %s\n",
			    keys[i].current ? '*' : ' ', keys[i].id, when,
			    keys[i].hostname, keys[i].username);
		}
		free(keys);
		return EXIT_OK;
	}
	if (strcmp(verb, "remove") == 0) {
		if ((e = gfsb_repo_lock(c->r, 1, &lock)) == GFSB_OK) {
			e = gfsb_repo_key_remove(c->r, argv[optind + 1], id);
			gfsb_repo_unlock(lock);
		}
		if (e != GFSB_OK)
			return cli_fail(c, e);
		if (!c->quiet)
			printf("key %.8s removed\n", id);
		return EXIT_OK;
	}
	if ((rc = new_pass(c, newfile, &pass, &len)) != EXIT_OK)
		return rc;
	/* Changing keys excludes prune and other key changes. */
	if ((e = gfsb_repo_lock(c->r, 1, &lock)) == GFSB_OK) {
		if (strcmp(verb, "passwd") == 0) {
			e = gfsb_repo_key_passwd(c->r, pass, len);
			if (e == GFSB_OK)
				printf("passphrase changed\n");
		} else {
			e = gfsb_repo_key_add(c->r, pass, len, 0, 0, id);
			if (e == GFSB_OK)
				printf("key %.8s added\n", id);
		}
		gfsb_repo_unlock(lock);
	}
	gfsb_crypto_secure_free(pass);
	if (e != GFSB_OK)
		return cli_fail(c, e);
	return EXIT_OK;
}
