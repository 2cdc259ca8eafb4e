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

static const char usage[] =
"usage: gfsbackup init -r REPO [options]\n"
"\n"
"Create an encrypted repository.  The passphrase is asked twice on a\n"
"terminal, or read from --password-file / GFSBACKUP_PASSWORD_FILE.\n"
"\n"
"  --pack-size SIZE       target pack size (default 16M; 1M to 1G)\n"
"  --compression LEVEL    zstd level 0-19, 0 = none (default 3)\n"
"  --chunk-min SIZE       smallest chunk (default 512K)\n"
"  --chunk-avg SIZE       average chunk, a power of two (default 1M)\n"
"  --chunk-max SIZE       largest chunk (default 8M)\n"
"  --kdf-memory SIZE      Argon2id memory for the key (default 64M)\n"
"  --kdf-iterations N     Argon2id passes (default 3)\n"
"  --object-lock MODE     compliance or governance: every object is\n"
"                         stored with an S3 Object Lock retain-until\n"
"                         date (an S3 bucket created with Object Lock;\n"
"                         docs/OFFSITE-SECURITY.md)\n";

enum {
	O_PACK = OPT_CMD_BASE, O_COMP, O_CMIN, O_CAVG, O_CMAX, O_KMEM, O_KOPS,
	O_LOCK
};

static int
size_arg(struct cli *c, const char *name, const char *arg, uint64_t max,
    uint64_t *out)
{
	if (gfsb_size_parse(arg, out) != GFSB_OK || *out > max)
		return cli_usage_error(c, "invalid %s %s", name, arg);
	return EXIT_OK;
}

int
cmd_init(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_GLOBAL_OPTIONS,
		{ "pack-size", required_argument, NULL, O_PACK },
		{ "compression", required_argument, NULL, O_COMP },
		{ "chunk-min", required_argument, NULL, O_CMIN },
		{ "chunk-avg", required_argument, NULL, O_CAVG },
		{ "chunk-max", required_argument, NULL, O_CMAX },
		{ "kdf-memory", required_argument, NULL, O_KMEM },
		{ "kdf-iterations", required_argument, NULL, O_KOPS },
		{ "object-lock", required_argument, NULL, O_LOCK },
		{ NULL, 0, NULL, 0 }
	};
	struct gfsb_repo_params p;
	uint64_t v;
	char *pass = NULL;
	size_t len;
	long lv;
	gfsb_err e;
	int o, rc;

	c->usage = usage;
	gfsb_repo_params_default(&p);
	while ((o = cli_getopt(c, argc, argv, CLI_GLOBAL_SHORT, opts)) != -1) {
		rc = EXIT_OK;
		switch (o) {
		case O_PACK:
			rc = size_arg(c, "pack size", optarg, UINT32_MAX, &v);
			p.pack_size = (uint32_t)v;
			break;
		case O_COMP:
			if (cli_number(c, "compression level", optarg, 0,
			    GFSB_COMPRESS_LEVEL_MAX, &lv) != 0)
				return EXIT_USAGE;
			p.compression = (int)lv;
			break;
		case O_CMIN:
			rc = size_arg(c, "chunk size", optarg, UINT32_MAX, &v);
			p.chunk.min = (uint32_t)v;
			break;
		case O_CAVG:
			rc = size_arg(c, "chunk size", optarg, UINT32_MAX, &v);
			p.chunk.avg = (uint32_t)v;
			break;
		case O_CMAX:
			rc = size_arg(c, "chunk size", optarg, UINT32_MAX, &v);
			p.chunk.max = (uint32_t)v;
			break;
		case O_KMEM:
			rc = size_arg(c, "KDF memory", optarg, 4ULL << 30,
			    &p.kdf_mem);
			break;
		case O_KOPS:
			if (cli_number(c, "KDF iterations", optarg, 1,
			    GFSB_KDF_OPS_MAX, &lv) != 0)
				return EXIT_USAGE;
			p.kdf_ops = (uint64_t)lv;
			break;
		case O_LOCK:
			rc = cli_lock_mode(c, optarg, &p.lock_mode);
			break;
		default:
			return EXIT_USAGE;
		}
		if (rc != EXIT_OK)
			return rc;
	}
	if (optind != argc)
		return cli_usage_error(c, "unexpected argument %s",
		    argv[optind]);
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
