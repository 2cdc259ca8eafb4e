/* Key file JSON (keyfile_parse, through repo_keyfile_decode).  Only the
 * parse: deriving a key is Argon2id's business and costs seconds. */
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
	uint64_t ops, mem;

	if (repo_keyfile_decode(p, n, &ops, &mem) == GFSB_OK &&
	    (ops < 1 || ops > 64 || mem < 8192 || mem > (4ULL << 30)))
		abort(); /* the caps on the derivation's cost */
	return 0;
}
