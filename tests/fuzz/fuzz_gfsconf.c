/*
 * The daily job's configuration (gfsb_config_load, src/ops/ops_config.c,
 * linked as the program links it) on the input written to a temporary
 * file of mode 0600, as the job requires.  Paths the input names (secrets,
 * policy files) are looked up on this machine: harmless, they are only
 * stat()ed or parsed.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gfsbackup/ops.h>

#include "fuzz_common.h"

static struct gfsb_ctx *ctx;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	ctx = fuzz_ctx();
	snprintf(path, sizeof(path), "/tmp/gfsb-fuzz-conf-XXXXXX");
	if ((fd = mkstemp(path)) < 0) /* mode 0600 */
		fuzz_die("mkstemp");
	close(fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	struct gfsb_config cfg;
	int fd;

	if ((fd = open(path, O_WRONLY | O_TRUNC)) < 0)
		abort();
	if (write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
	if (gfsb_config_load(ctx, path, &cfg) == GFSB_OK)
		gfsb_config_fini(&cfg);
	gfsb_ctx_clearerr(ctx);
	return 0;
}
