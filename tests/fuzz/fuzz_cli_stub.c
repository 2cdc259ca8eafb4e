/* What src/cli/cli_config.c uses from cli_common.c, for fuzz_gfsconf:
 * messages are dropped (the fuzzer's output stays short). */
#include <stdarg.h>

#include "cli/cli.h"

void
cli_msg(struct cli *c, const char *fmt, ...)
{
	(void)c;
	(void)fmt;
}

int
cli_usage_error(struct cli *c, const char *fmt, ...)
{
	(void)c;
	(void)fmt;
	return EXIT_USAGE;
}

int
cli_fail(struct cli *c, gfsb_err e)
{
	(void)c;
	return e == GFSB_OK ? EXIT_OK : EXIT_FATAL;
}
