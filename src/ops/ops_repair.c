/*
 * repair index as a command does it: under the lock it needs.  A repair
 * rewrites the index, so it takes the exclusive lock; a dry run changes
 * nothing, but a backup writing meanwhile would make its counts wrong, so
 * it shares the lock backups take.
 */
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

gfsb_err
gfsb_ops_repair_index(struct gfsb_repo *r,
    const struct gfsb_index_repair_opts *o,
    struct gfsb_index_repair_stats *st)
{
	struct gfsb_lock *lock = NULL;
	gfsb_err e;

	/* A write-only key is refused before it writes even a lock. */
	if ((e = gfsb_repo_need_full(r, "repair the index")) != GFSB_OK ||
	    (e = gfsb_repo_lock(r, !o->dry_run, &lock)) != GFSB_OK)
		return e;
	e = gfsb_repo_index_repair(r, o, st);
	gfsb_repo_unlock(lock);
	return e;
}
