/*
 * What the C tests of the engines share: generated file contents, a
 * repository on the in-memory backend, and scratch directories.  Failures
 * fail the calling test (cmocka).
 */
#ifndef GFSB_TEST_FIXTURE_H
#define GFSB_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/repo.h>
#include <gfsbackup/util.h>

/* n bytes of xorshift64 from seed (incompressible, the same every run). */
void fx_fill(uint8_t *p, size_t n, unsigned seed);

/* A file of n such bytes at path. */
void fx_write(const char *path, size_t n, unsigned seed);

/* A new directory /tmp/gfsb-NAME-XXXXXX, its path in buf. */
void fx_tmpdir(char *buf, size_t len, const char *name);

/* How many names in dir start with prefix and end with suffix (0 for a
 * directory that does not exist). */
int fx_count(const char *dir, const char *prefix, const char *suffix);

/* How many objects of type be holds. */
size_t fx_objects(struct gfsb_backend *be, enum gfsb_obj type);

/* Remove a scratch directory and everything in it. */
void fx_rm_rf(const char *dir);

/* A context, an in-memory backend and a new repository on it (a quick
 * key derivation; pack_size 0: the default). */
struct fx_repo {
	struct gfsb_ctx *ctx;
	struct gfsb_backend *be;
	struct gfsb_repo *r;
};
void fx_repo_new(struct fx_repo *x, const char *pass, size_t pack_size);
void fx_repo_free(struct fx_repo *x);

/* Back up the directory src into x: at local time when (NULL: now), as
 * host (NULL: this one), with tag (NULL: none); the snapshot's id into id
 * (NULL: not wanted). */
void fx_backup(struct fx_repo *x, const char *src, const char *when,
    const char *host, const char *tag, char *id);

#endif
