/*
 * Retention policy files (gfsb_gfs_policy_load, on the input written to a
 * temporary file), then the policy described and applied to a fixed
 * history, so that absurd counts and durations reach the arithmetic.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <gfsbackup/gfs.h>

#include "fuzz_common.h"

#define NITEMS 48

static struct gfsb_ctx *ctx;
static char path[64];
static struct gfsb_gfs_item items[NITEMS];
static char *const tags[] = { "daily", "keep" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd, i;

	(void)argc;
	(void)argv;
	ctx = fuzz_ctx();
	snprintf(path, sizeof(path), "/tmp/gfsb-fuzz-policy-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		fuzz_die("mkstemp");
	close(fd);
	/* 2024-01-01 and on: daily, then a few hours apart, then yearly. */
	for (i = 0; i < NITEMS; i++) {
		items[i].time.sec = 1704067200LL + (int64_t)i * (i < 32 ?
		    86400 : i < 40 ? 3600 : 400 * 86400);
		items[i].tags = i % 5 == 0 ? tags : NULL;
		items[i].ntags = i % 5 == 0 ? 2 : 0;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	static struct gfsb_gfs_decision out[NITEMS];
	struct gfsb_policy *pol;
	struct gfsb_time now = { 1704067200LL + 90 * 86400, 0 };
	char buf[512];
	int fd;

	if ((fd = open(path, O_WRONLY | O_TRUNC)) < 0)
		abort();
	if (write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
	if (gfsb_gfs_policy_load(ctx, path, &pol) == GFSB_OK) {
		gfsb_gfs_policy_describe(pol, buf, sizeof(buf));
		if (gfsb_gfs_apply(pol, items, NITEMS, &now, out) != GFSB_OK)
			abort(); /* a loaded policy is never empty */
		gfsb_gfs_policy_free(pol);
	}
	gfsb_ctx_clearerr(ctx);
	return 0;
}
