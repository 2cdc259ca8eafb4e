/*
 * A file in the state directory as the commands name it (--state-dir),
 * its errors said and turned into exit statuses: the library's
 * gfsb_ops_state_file (the daily job's own: gfsb_ops_run_settle).
 */
#include <gfsbackup/ops.h>

#include "cli.h"
#include "cli_state.h"

int
cli_ledger_file(struct cli *c, const char *dir, struct gfsb_repo *r,
    struct gfsb_backend *be, char **out)
{
	gfsb_err e;

	if ((e = gfsb_ops_state_file(c->ctx, dir, r, be, GFSB_STATE_LOCKS,
	    out)) == GFSB_OK)
		return EXIT_OK;
	if (e == GFSB_EINVAL)
		return cli_usage_error(c, "%s (--state-dir)",
		    gfsb_ctx_errmsg(c->ctx));
	return cli_fail(c, e);
}
