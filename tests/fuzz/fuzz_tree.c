/*
 * Tree plaintext (gfsb_repo_tree_decode).  The encoding is canonical: a
 * tree that decodes must encode back to exactly the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

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
	struct gfsb_tree t;
	struct gfsb_buf b;

	if (gfsb_repo_tree_decode(p, n, &t) != GFSB_OK)
		return 0;
	gfsb_buf_init(&b);
	if (gfsb_repo_tree_encode(&t, &b) != GFSB_OK || b.len != n ||
	    memcmp(b.data, p, n) != 0)
		abort();
	if (t.n > 0 && gfsb_repo_tree_find(&t, t.nodes[t.n - 1].name) !=
	    &t.nodes[t.n - 1])
		abort();
	gfsb_buf_fini(&b);
	gfsb_repo_tree_fini(&t);
	return 0;
}
