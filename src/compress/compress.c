/*
 * zstd compression of blobs.
 *
 * One context per thread, reused for every blob (creating a CCtx per blob
 * would dominate the cost of small files); seven in fact, one per range
 * of sizes.  zstd sizes a context's tables to the input (below 16 KiB, to
 * its power of two) and frees a workspace that stays three times too
 * large for 128 calls, so one context fed files of 1 to 20 KiB freed and
 * allocated its tables again and again, each time on fresh pages.  Within
 * a range here the sizes differ by less than three.  The output does not
 * depend on the context.
 *
 * Decompression writes into a buffer of exactly the expected size: zstd
 * refuses to write past it, so a frame claiming or expanding to more is an
 * error, not an allocation.
 */
#include <stdlib.h>

#include <zstd.h>

#include <gfsbackup/compress.h>

/* Contexts by input size: up to 1, 2, 4, 8, 16 KiB (zstd's smallest
 * size class, where tables follow the input's power of two), up to 256
 * KiB (its next two classes, tables of about one size), and above. */
#define NCCTX 7

struct gfsb_compress {
	int level;
	ZSTD_CCtx *cctx[NCCTX];
	ZSTD_DCtx *dctx;
};

static int
cctx_for(size_t n)
{
	int i;

	if (n > (256U << 10))
		return NCCTX - 1;
	if (n > (16U << 10))
		return NCCTX - 2;
	for (i = 0; i < NCCTX - 3 && n > ((size_t)1024 << i); i++)
		;
	return i;
}

static ZSTD_CCtx *
cctx_new(int level)
{
	ZSTD_CCtx *c;

	if ((c = ZSTD_createCCtx()) == NULL)
		return NULL;
	if (level > 0 && ZSTD_isError(ZSTD_CCtx_setParameter(c,
	    ZSTD_c_compressionLevel, level))) {
		ZSTD_freeCCtx(c);
		return NULL;
	}
	/* The blob's size is in the index; the frame need not repeat it. */
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
	return c;
}

gfsb_err
gfsb_compress_new(int level, struct gfsb_compress **out)
{
	struct gfsb_compress *z;
	int i;

	if (level < 0 || level > GFSB_COMPRESS_LEVEL_MAX)
		return GFSB_EINVAL;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return GFSB_ENOMEM;
	z->level = level;
	for (i = 0; i < NCCTX; i++)
		if ((z->cctx[i] = cctx_new(level)) == NULL) {
			gfsb_compress_free(z);
			return GFSB_ENOMEM;
		}
	if ((z->dctx = ZSTD_createDCtx()) == NULL) {
		gfsb_compress_free(z);
		return GFSB_ENOMEM;
	}
	*out = z;
	return GFSB_OK;
}

void
gfsb_compress_free(struct gfsb_compress *z)
{
	int i;

	if (z == NULL)
		return;
	for (i = 0; i < NCCTX; i++)
		ZSTD_freeCCtx(z->cctx[i]);
	ZSTD_freeDCtx(z->dctx);
	free(z);
}

size_t
gfsb_compress_bound(size_t n)
{
	return ZSTD_compressBound(n);
}

gfsb_err
gfsb_compress_blob(struct gfsb_compress *z, const uint8_t *in, size_t n,
    uint8_t *out, size_t cap, size_t *outlen)
{
	size_t r;

	*outlen = 0;
	if (z->level == 0 || n < 64)
		return GFSB_OK;
	r = ZSTD_compress2(z->cctx[cctx_for(n)], out, cap, in, n);
	if (ZSTD_isError(r))
		return GFSB_ENOMEM;
	if (r <= n - n / 32)
		*outlen = r;
	return GFSB_OK;
}

gfsb_err
gfsb_compress_unblob(struct gfsb_compress *z, const uint8_t *in, size_t n,
    uint8_t *out, size_t rawlen)
{
	unsigned long long claimed;
	size_t r;

	/* A frame must declare its size, and the expected one: refused
	 * before any work otherwise (ours always declare it: ZSTD_compress2
	 * knows the size; docs/FORMAT.md). */
	claimed = ZSTD_getFrameContentSize(in, n);
	if (claimed != rawlen)
		return GFSB_ECORRUPT;
	r = ZSTD_decompressDCtx(z->dctx, out, rawlen, in, n);
	if (ZSTD_isError(r) || r != rawlen)
		return GFSB_ECORRUPT;
	return GFSB_OK;
}
