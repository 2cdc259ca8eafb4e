/*
 * Shared by the fuzz targets: the fixed repository whose key the sealed
 * targets use (tests/fuzz/repo: the key file and config make_seeds.sh
 * wrote, opened on an in-memory backend with FUZZ_PASS and the cheap
 * Argon2id parameters it was made with), and small helpers.  Everything
 * here runs once per process, in LLVMFuzzerInitialize.
 */
#ifndef GFSB_FUZZ_COMMON_H
#define GFSB_FUZZ_COMMON_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/util.h>

#define FUZZ_PASS "gfsbackup fuzz corpus"

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static inline void
fuzz_die(const char *what)
{
	fprintf(stderr, "fuzz setup: %s\n", what);
	exit(2);
}

/* Read a whole small file (the committed key file or config). */
static inline void
fuzz_slurp(const char *path, struct gfsb_buf *b)
{
	uint8_t chunk[4096];
	size_t got;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		fuzz_die(path);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (gfsb_buf_append(b, chunk, got) != GFSB_OK)
			fuzz_die("out of memory");
	fclose(f);
}

/* A context that drops every message: the fuzzer's output stays short. */
static inline struct gfsb_ctx *
fuzz_ctx(void)
{
	struct gfsb_ctx *ctx;

	if (gfsb_ctx_new(&ctx) != GFSB_OK)
		fuzz_die("gfsb_ctx_new");
	gfsb_ctx_set_log(ctx, NULL, NULL);
	return ctx;
}

/* Open the fixed repository (the backend and context live as long as the
 * process: libFuzzer never returns from its loop). */
static inline struct gfsb_repo *
fuzz_repo(void)
{
	char path[4096];
	struct gfsb_backend *be;
	struct gfsb_repo *r;
	struct gfsb_ctx *ctx = fuzz_ctx();
	struct gfsb_buf b;
	struct dirent *d;
	DIR *dir;

	if (gfsb_backend_mem_new(ctx, &be) != GFSB_OK)
		fuzz_die("gfsb_backend_mem_new");
	gfsb_buf_init(&b);
	fuzz_slurp(GFSB_FUZZ_REPO "/config", &b);
	if (gfsb_backend_put(be, GFSB_OBJ_CONFIG, "config", b.data, b.len) !=
	    GFSB_OK)
		fuzz_die("put config");
	if ((dir = opendir(GFSB_FUZZ_REPO "/keys")) == NULL)
		fuzz_die(GFSB_FUZZ_REPO "/keys (run tests/fuzz/make_seeds.sh)");
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/keys/%s", GFSB_FUZZ_REPO,
		    d->d_name);
		b.len = 0;
		fuzz_slurp(path, &b);
		if (gfsb_backend_put(be, GFSB_OBJ_KEY, d->d_name, b.data,
		    b.len) != GFSB_OK)
			fuzz_die("put key");
	}
	closedir(dir);
	gfsb_buf_fini(&b);
	if (gfsb_repo_open(ctx, be, FUZZ_PASS, strlen(FUZZ_PASS), &r) !=
	    GFSB_OK)
		fuzz_die(gfsb_ctx_errmsg(ctx));
	return r;
}

static inline uint64_t
fuzz_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#endif
