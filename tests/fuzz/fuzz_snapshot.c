/* Snapshot JSON plaintext (repo_snapshot_decode). */
#include <stdlib.h>

#include "fuzz_common.h"
#include "repo/repo_internal.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	struct gfsb_snapshot *s;
	char buf[64];

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return 0;
	if (repo_snapshot_decode(p, n, s) == GFSB_OK) {
		gfsb_time_format_rfc3339(&s->time, buf, sizeof(buf));
		if (s->has_summary)
			gfsb_time_format_rfc3339(&s->summary.backup_end, buf,
			    sizeof(buf));
	}
	gfsb_repo_snapshot_free(s);
	return 0;
}
