/*
 * Option callbacks (gfsb_opt_fn, see opt.h) whose values are the
 * engines' own settings, shared by the commands that take them: an
 * Object Lock mode, a verification's read option, a retention rule.
 * Each refuses a bad value in one line in the context, naming the
 * option, as every option the engine checks does; nothing here prints.
 */
#include <stdio.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/opt.h>
#include <gfsbackup/repo.h>

gfsb_err
gfsb_ops_opt_lock_mode(struct gfsb_ctx *ctx, const struct gfsb_opt *o,
    const char *arg, void *cookie)
{
	enum gfsb_lock_mode *m = o->value;

	(void)cookie;
	/* "none" is a mode, but not one an option can ask for. */
	if (gfsb_lock_mode_parse(arg, m) != GFSB_OK || *m == GFSB_LOCK_NONE)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid "
		    "--%s %s: give compliance or governance", o->name, arg);
	return GFSB_OK;
}

gfsb_err
gfsb_ops_opt_read_data(struct gfsb_ctx *ctx, const struct gfsb_opt *o,
    const char *arg, void *cookie)
{
	struct gfsb_check_args *g = o->value;

	(void)cookie;
	/* Two would contradict each other, or one would be lost. */
	if (g->have_read++)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "give --read-data or "
		    "--read-data-subset once");
	if (arg == NULL)
		g->read = GFSB_VERIFY_READ_ALL;
	else if (gfsb_ops_verify_parse_subset(arg, &g->read, &g->slice,
	    &g->slices, &g->percent) != GFSB_OK)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid "
		    "--read-data-subset %s: give N/T, rotate/T or P%%", arg);
	return GFSB_OK;
}

gfsb_err
gfsb_ops_opt_keep(struct gfsb_ctx *ctx, const struct gfsb_opt *o,
    const char *arg, void *cookie)
{
	char flag[64];

	(void)cookie;
	/* The option's name is the rule's, as a policy file writes it. */
	snprintf(flag, sizeof(flag), "--%s", o->name);
	return gfsb_gfs_policy_set(ctx, o->value, o->name, arg, flag);
}
