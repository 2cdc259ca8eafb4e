/*
 * gfsbackup key passwd|add|list|remove: the repository's key files
 * (gfsb_ops_key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/pass.h>

#include "cli.h"

int
cmd_key(struct cli *c, int argc, char **argv)
{
	struct gfsb_pass_source src = { .prompt = "new passphrase: ",
	    .confirm = 1 };
	struct gfsb_key_opts ko = { 0 };
	char *pass = NULL;
	gfsb_err e;
	int rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_STRING("new-password-file", 0, &src.file),
		GFSB_OPT_FLAG("write-only", 0, &ko.write_only),
		GFSB_OPT_END
	};

	if ((rc = cli_parse(c, argc, argv, opts, 2)) != EXIT_OK)
		return rc;
	if (gfsb_ops_key_args(c->ctx, (const char *const *)argv + optind,
	    (size_t)(argc - optind), &ko) != GFSB_OK)
		return cli_usage_error(c, "%s", gfsb_ctx_errmsg(c->ctx));
	if ((rc = cli_open_repo(c)) != EXIT_OK)
		return rc;
	/* The new passphrase: --new-password-file, else only the terminal
	 * (the usual sources hold the current one). */
	if ((ko.verb == GFSB_KEY_PASSWD || ko.verb == GFSB_KEY_ADD) &&
	    (rc = cli_pass_read(c, &src, &pass, &ko.passlen)) != EXIT_OK)
		return rc;
	ko.pass = pass;
	e = gfsb_ops_key(c->r, &ko, c->quiet && ko.verb == GFSB_KEY_REMOVE ?
	    NULL : cli_put_line, c);
	gfsb_crypto_secure_free(pass);
	return e == GFSB_OK ? EXIT_OK : cli_fail(c, e);
}
