/*
 * A write-only key's own cache.  What such a key writes it seals to the
 * reader, so it cannot read its trees and snapshots back from the
 * repository; an incremental backup needs them (to skip unchanged files),
 * so it keeps them here, on its machine, sealed under its wkey:
 * DIR/<repo id>/writer-<key id>/{trees,snapshots}/<id>, DIR the cache's
 * base (gfsb_repo_set_cache, else the default one).  A tree is checked
 * against its id when read, a snapshot is named by the id the repository
 * gave it, and the parent's blobs are each looked up in the index before
 * they are reused, as every backup does: a cache lost, stale or damaged
 * costs a slower backup (files read again), never a wrong one.  Best
 * effort: a failure here is a warning once, and the backup goes on.
 *
 * What it tells whoever holds the server: the names, sizes and times of
 * the files of its last backups, which the server's disk holds anyway.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gfsbackup/crypto.h>
#include <gfsbackup/repo.h>

#include "repo_internal.h"

#define WC_AD_PREFIX "gfsb-writer-cache"

/* The directory of kind ("trees", "snapshots") into out, made if need
 * be; -1 with errno when it cannot be. */
static int
wc_dir(struct gfsb_repo *r, const char *kind, char *out, size_t len)
{
	const char *v;
	char base[PATH_MAX];
	int n;

	if (r->cache != NULL)
		n = snprintf(base, sizeof(base), "%s", gfsb_repo_cache_path(r));
	else if ((v = getenv("GFSBACKUP_CACHE_DIR")) != NULL && *v == '/')
		n = snprintf(base, sizeof(base), "%s/%s", v, r->id);
	else if ((v = getenv("XDG_CACHE_HOME")) != NULL && *v == '/')
		n = snprintf(base, sizeof(base), "%s/gfsbackup/%s", v, r->id);
	else if ((v = getenv("HOME")) != NULL && *v == '/')
		n = snprintf(base, sizeof(base), "%s/.cache/gfsbackup/%s", v,
		    r->id);
	else
		return errno = ENOENT, -1;
	if (n <= 0 || (size_t)n >= sizeof(base) || snprintf(out, len,
	    "%s/writer-%.16s/%s", base, r->key_id, kind) >= (int)len)
		return errno = ENAMETOOLONG, -1;
	if ((errno = gfsb_sys_mkdirs(out)) != 0)
		return -1;
	return 0;
}

static void
wc_warn(struct gfsb_repo *r, const char *what)
{
	if (r->wcache_warned++)
		return;
	gfsb_ctx_log(r->ctx, GFSB_LOG_WARN, "write-only key's cache: %s: %s "
	    "(backups read every file)", what, strerror(errno));
}

/* The associated data of an entry: prefix, kind, name. */
static size_t
wc_ad(uint8_t *ad, size_t len, const char *kind, const char *name)
{
	int n = snprintf((char *)ad, len, "%s/%s/%s", WC_AD_PREFIX, kind,
	    name);

	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

void
repo_wcache_put(struct gfsb_repo *r, const char *kind, const char *name,
    const uint8_t *p, size_t n)
{
	char dir[PATH_MAX], path[PATH_MAX + 80], tmp[PATH_MAX + 96];
	uint8_t ad[128], *sealed;
	size_t adlen;
	int fd, ok;

	if (r->writer == NULL || wc_dir(r, kind, dir, sizeof(dir)) != 0) {
		if (r->writer != NULL)
			wc_warn(r, "cannot create it");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK) == 0)
		return; /* the same id, the same contents */
	if ((adlen = wc_ad(ad, sizeof(ad), kind, name)) == 0 ||
	    (sealed = malloc(n + GFSB_SEAL_OVERHEAD)) == NULL)
		return;
	gfsb_crypto_seal_with(r->writer->wkey, sealed, p, n, ad, adlen);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-XXXXXX", dir);
	if ((fd = mkstemp(tmp)) < 0) {
		wc_warn(r, "cannot write to it");
		free(sealed);
		return;
	}
	ok = gfsb_sys_write_full(fd, sealed, n + GFSB_SEAL_OVERHEAD) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		wc_warn(r, "cannot write to it");
		unlink(tmp);
	}
	free(sealed);
}

gfsb_err
repo_wcache_get(struct gfsb_repo *r, const char *kind, const char *name,
    size_t maxlen, struct gfsb_buf *out)
{
	char dir[PATH_MAX], path[PATH_MAX + 80];
	uint8_t ad[128], *sealed = NULL;
	struct stat st;
	size_t adlen;
	ssize_t got;
	gfsb_err e = GFSB_ENOTFOUND;
	int fd;

	out->len = 0;
	if (r->writer == NULL || wc_dir(r, kind, dir, sizeof(dir)) != 0 ||
	    (adlen = wc_ad(ad, sizeof(ad), kind, name)) == 0)
		return GFSB_ENOTFOUND;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return GFSB_ENOTFOUND;
	if (fstat(fd, &st) != 0 || st.st_size < GFSB_SEAL_OVERHEAD ||
	    (uint64_t)st.st_size > maxlen + GFSB_SEAL_OVERHEAD ||
	    (sealed = malloc((size_t)st.st_size)) == NULL ||
	    (got = gfsb_sys_pread_full(fd, sealed, (size_t)st.st_size, 0)) !=
	    st.st_size)
		goto out;
	if ((e = gfsb_buf_reserve(out, (size_t)st.st_size)) != GFSB_OK)
		goto out;
	if (gfsb_crypto_open_with(r->writer->wkey, out->data, sealed,
	    (size_t)st.st_size, ad, adlen) != GFSB_OK) {
		/* Damaged: gone, and fetched again never (it cannot be). */
		unlink(path);
		e = GFSB_ENOTFOUND;
		goto out;
	}
	out->len = (size_t)st.st_size - GFSB_SEAL_OVERHEAD;
	e = GFSB_OK;
out:
	close(fd);
	free(sealed);
	return e;
}

gfsb_err
repo_wcache_names(struct gfsb_repo *r, const char *kind, char ***out,
    size_t *n)
{
	char dir[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	gfsb_err e = GFSB_OK;

	*out = NULL;
	*n = 0;
	if (r->writer == NULL || wc_dir(r, kind, dir, sizeof(dir)) != 0 ||
	    (dp = opendir(dir)) == NULL)
		return GFSB_OK;
	while (e == GFSB_OK && (d = readdir(dp)) != NULL)
		if (strlen(d->d_name) == GFSB_ID_HEX - 1 &&
		    strspn(d->d_name, "0123456789abcdef") == GFSB_ID_HEX - 1)
			e = gfsb_strv_addf(out, n, "%s", d->d_name);
	closedir(dp);
	return e;
}
