/* gfsbackup verify: placeholder, written next. */
#include <stdio.h>

#include "cli.h"

int
cmd_verify(struct cli *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	fprintf(stderr, "gfsbackup: verify is not implemented yet\n");
	return 1;
}
