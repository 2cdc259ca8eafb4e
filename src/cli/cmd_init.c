/*
 * gfsbackup init: create a repository.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/compress.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/repo.h>

#include "cli.h"

int
cmd_init(struct cli *c, int argc, char **argv)
{
	struct gfsb_repo_params p;
	char *pass = NULL;
	size_t len;
	gfsb_err e;
	int rc;
	const struct gfsb_opt opts[] = {
		GFSB_OPT_SIZE("pack-size", 0, &p.pack_size, UINT32_MAX,
		    "pack size"),
		GFSB_OPT_NUMBER("compression", 0, &p.compression, 0,
		    GFSB_COMPRESS_LEVEL_MAX, "compression level"),
		GFSB_OPT_SIZE("chunk-min", 0, &p.chunk.min, UINT32_MAX,
		    "chunk size"),
		GFSB_OPT_SIZE("chunk-avg", 0, &p.chunk.avg, UINT32_MAX,
		    "chunk size"),
		GFSB_OPT_SIZE("chunk-max", 0, &p.chunk.max, UINT32_MAX,
		    "chunk size"),
		GFSB_OPT_SIZE("kdf-memory", 0, &p.kdf_mem, 4ULL << 30,
		    "KDF memory"),
		GFSB_OPT_NUMBER("kdf-iterations", 0, &p.kdf_ops, 1,
		    GFSB_KDF_OPS_MAX, "KDF iterations"),
		GFSB_OPT_CALLBACK("object-lock", 0, &p.lock_mode,
		    gfsb_ops_opt_lock_mode),
		GFSB_OPT_END
	};

	gfsb_repo_params_default(&p);
	if ((rc = cli_parse(c, argc, argv, opts, 0)) != EXIT_OK)
		return rc;
	if ((rc = cli_open_backend(c)) != EXIT_OK)
		return rc;
	if ((e = gfsb_repo_probe(c->ctx, c->be)) == GFSB_OK)
		return cli_msg(c, "%s: init: a repository already exists at "
		    "%s", c->prog, c->repo), EXIT_FATAL;
	gfsb_ctx_clearerr(c->ctx);
	if ((rc = cli_passphrase(c, 1, "new repository passphrase: ", &pass,
	    &len)) != EXIT_OK)
		return rc;
	e = gfsb_repo_init(c->ctx, c->be, pass, len, &p, &c->r);
	gfsb_crypto_secure_free(pass);
	if (e != GFSB_OK)
		return cli_fail(c, e);
	if (!c->quiet) {
		printf("created repository %.8s at %s%s%s\n",
		    gfsb_repo_id(c->r), c->repo, p.lock_mode != GFSB_LOCK_NONE ?
		    ", locked in " : "", p.lock_mode != GFSB_LOCK_NONE ?
		    gfsb_lock_mode_name(p.lock_mode) : "");
		cli_msg(c, "Keep the passphrase safe: without it nothing in "
		    "this repository can be restored.");
	}
	return EXIT_OK;
}
