/* Index file plaintext (index_decode, through repo_index_decode). */
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
	size_t nsup, npacks, nblobs, nd, ndb;

	/* The decoder must account for every byte; the packs to delete
	 * (version 2, never empty) have a count, and a time each. */
	if (repo_index_decode(p, n, &nsup, &npacks, &nblobs, &nd, &ndb) ==
	    GFSB_OK && 1 + 4 + nsup * GFSB_ID_LEN + 4 + npacks *
	    (GFSB_ID_LEN + 4) + nblobs * INDEX_ENTRY_LEN + (nd > 0 ? 4 +
	    nd * (GFSB_ID_LEN + 8 + 4) + ndb * INDEX_ENTRY_LEN : 0) != n)
		abort();
	return 0;
}
