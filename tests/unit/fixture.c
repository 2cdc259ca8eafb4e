/* The C tests' shared fixtures (fixture.h). */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gfsbackup/ops.h>

#include "fixture.h"

void
fx_fill(uint8_t *p, size_t n, unsigned seed)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL * (seed + 1);
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

void
fx_write(const char *path, size_t n, unsigned seed)
{
	uint8_t *b = malloc(n ? n : 1);
	FILE *fp;

	assert_non_null(b);
	fx_fill(b, n, seed);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(b, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
	free(b);
}

void
fx_tmpdir(char *buf, size_t len, const char *name)
{
	assert_true((size_t)snprintf(buf, len, "/tmp/gfsb-%s-XXXXXX", name) <
	    len);
	assert_non_null(mkdtemp(buf));
}

size_t
fx_objects(struct gfsb_backend *be, enum gfsb_obj type)
{
	struct gfsb_objlist l;
	size_t n;

	assert_int_equal(gfsb_backend_list_all(be, type, &l), GFSB_OK);
	n = l.n;
	gfsb_objlist_fini(&l);
	return n;
}

int
fx_count(const char *dir, const char *prefix, const char *suffix)
{
	struct dirent *de;
	size_t n, ls = strlen(suffix);
	DIR *d;
	int count = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		count += strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		    n >= ls && strcmp(de->d_name + n - ls, suffix) == 0;
	}
	closedir(d);
	return count;
}

void
fx_rm_rf(const char *dir)
{
	char cmd[512];

	assert_true(strncmp(dir, "/tmp/gfsb-", 10) == 0);
	assert_true((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) <
	    sizeof(cmd));
	assert_int_equal(system(cmd), 0);
}

void
fx_repo_new(struct fx_repo *x, const char *pass, size_t pack_size)
{
	struct gfsb_repo_params p;

	memset(x, 0, sizeof(*x));
	assert_int_equal(gfsb_ctx_new(&x->ctx), GFSB_OK);
	assert_int_equal(gfsb_backend_mem_new(x->ctx, &x->be), GFSB_OK);
	gfsb_repo_params_default(&p);
	p.kdf_ops = 1;
	p.kdf_mem = 8 << 20;
	if (pack_size > 0)
		p.pack_size = pack_size;
	assert_int_equal(gfsb_repo_init(x->ctx, x->be, pass, strlen(pass), &p,
	    &x->r), GFSB_OK);
}

void
fx_repo_free(struct fx_repo *x)
{
	gfsb_repo_close(x->r);
	gfsb_backend_close(x->be);
	gfsb_ctx_free(x->ctx);
	memset(x, 0, sizeof(*x));
}

void
fx_backup(struct fx_repo *x, const char *src, const char *when,
    const char *host, const char *tag, char *id)
{
	const char *paths[1] = { src }, *tags[1] = { tag };
	struct gfsb_backup_result res;
	struct gfsb_backup_opts bo;

	memset(&bo, 0, sizeof(bo));
	bo.paths = paths;
	bo.npaths = 1;
	bo.host = host;
	bo.tags = tags;
	bo.ntags = tag != NULL;
	bo.threads = 1;
	if (when != NULL) {
		bo.has_time = 1;
		assert_int_equal(gfsb_time_parse_local(when, &bo.time),
		    GFSB_OK);
	}
	assert_int_equal(gfsb_ops_backup(x->r, &bo, &res), GFSB_OK);
	if (id != NULL)
		snprintf(id, GFSB_ID_HEX, "%s", res.snapshot_id);
}
