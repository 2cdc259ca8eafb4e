/*
 * gfsbackup sync's settings: the defaults its command line leaves to the
 * library (the delete mode under --as-of, how many copies at once, the
 * mirror's cache, a locked mirror's dates), decided here once so that a
 * test can see them (ops_sync.c is the engine).
 */
#include <string.h>

#include <gfsbackup/ops.h>

void
gfsb_ops_sync_opts_init(struct gfsb_sync_args *a, struct gfsb_sync_opts *so,
    struct gfsb_lock_opts *lo)
{
	memset(a, 0, sizeof(*a));
	memset(so, 0, sizeof(*so));
	memset(lo, 0, sizeof(*lo));
	a->delete_mode = -1;
	lo->margin = GFSB_LOCK_MARGIN_DEFAULT;
}

void
gfsb_ops_sync_settle(const struct gfsb_sync_args *a,
    struct gfsb_sync_opts *so, struct gfsb_lock_opts *lo)
{
	/* A look at the past rolls nothing back unless asked: a mirror
	 * that holds newer snapshots keeps them. */
	if (a->delete_mode >= 0)
		so->delete_mode = (enum gfsb_sync_delete)a->delete_mode;
	else if (a->as_of != 0)
		so->delete_mode = GFSB_SYNC_DELETE_NEVER;
	if (so->threads == 0)
		so->threads = a->connections > 0 ? (unsigned)a->connections :
		    4;
	so->mirror_cache = a->no_cache ? NULL : a->cache_dir != NULL ?
	    a->cache_dir : "";
	/* The dates of a locked mirror: the policy's, from now. */
	lo->policy = a->policy;
	lo->ledger = a->ledger;
	gfsb_time_now(&lo->now);
	so->locks = lo;
}
