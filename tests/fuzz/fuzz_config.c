/* Repository config JSON plaintext (repo_config_decode), then the chunker
 * it describes, as opening a repository does. */
#include <stdlib.h>

#include <gfsbackup/chunker.h>
#include <gfsbackup/crypto.h>

#include "fuzz_common.h"
#include "repo/repo_internal.h"

static struct gfsb_ctx *ctx;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ctx = fuzz_ctx();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	struct gfsb_repo_params params;
	struct gfsb_chunker *ck = NULL;
	char id[GFSB_ID_HEX];
	uint8_t seed[GFSB_KEY_LEN];
	uint64_t gear[256];

	gfsb_repo_params_default(&params);
	if (repo_config_decode(ctx, p, n, id, &params, seed) == GFSB_OK) {
		gfsb_crypto_expand(seed, gear, sizeof(gear));
		if (gfsb_chunker_new(&params.chunk, gear, &ck) != GFSB_OK)
			abort(); /* the decoder let impossible sizes through */
		gfsb_chunker_free(ck);
	}
	gfsb_ctx_clearerr(ctx);
	return 0;
}
