/*
 * Pack header plaintext (repo_pack_header_decode).  Input: the pack's
 * size as a u64 (little-endian), then the decrypted header.  A header
 * that decodes must describe blobs that end exactly where it begins.
 */
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
	struct hdrent *ents = NULL;
	uint64_t packsize, off = 0;
	size_t nents = 0, i;

	if (n < 8)
		return 0;
	packsize = fuzz_le64(p);
	if (repo_pack_header_decode(NULL, p + 8, n - 8, packsize, &ents,
	    &nents) != GFSB_OK)
		return 0;
	for (i = 0; i < nents; i++) {
		if (ents[i].offset != off)
			abort();
		off += ents[i].length;
	}
	if (nents == 0 || off + (n - 8) + ENV_OVERHEAD + 4 != packsize)
		abort();
	free(ents);
	return 0;
}
