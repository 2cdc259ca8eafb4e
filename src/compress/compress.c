/*
 * zstd compression of blobs.
 *
 * One context per thread, reused for every blob (creating a CCtx per blob
 * would dominate the cost of small files); three in fact, one per range
 * of sizes.  zstd sizes a context's tables to the input and frees a
 * workspace that stays three times too large for 128 calls, so a context
 * that goes from 10 KiB files to 20 KiB ones and back reallocates and
 * zeroes fresh pages again and again (a fifth of a backup's page faults).
 * The output does not depend on the context.  Decompression writes into a
 * buffer of exactly the expected size: zstd refuses to write past it, so a
 * frame claiming or expanding to more is an error, not an allocation.
 */
#include <stdlib.h>

#include <zstd.h>

#include <gfsbackup/compress.h>

/* zstd's size classes for parameters: up to 16 KiB, 128 KiB, 256 KiB,
 * and above (the middle two need tables of about the same size). */
#define CLASS_SMALL (16U << 10)
#define CLASS_MID (256U << 10)

struct gfsb_compress {
	int level;
	ZSTD_CCtx *cctx[3]; /* small, middle, large inputs */
	ZSTD_DCtx *dctx;
};

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

	if (level < 0 || level > GFSB_COMPRESS_LEVEL_MAX)
		return GFSB_EINVAL;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return GFSB_ENOMEM;
	z->level = level;
	if ((z->cctx[0] = cctx_new(level)) == NULL ||
	    (z->cctx[1] = cctx_new(level)) == NULL ||
	    (z->cctx[2] = cctx_new(level)) == NULL ||
	    (z->dctx = ZSTD_createDCtx()) == NULL) {
		gfsb_compress_free(z);
		return GFSB_ENOMEM;
	}
	*out = z;
	return GFSB_OK;
}

void
gfsb_compress_free(struct gfsb_compress *z)
{
	if (z == NULL)
		return;
	ZSTD_freeCCtx(z->cctx[0]);
	ZSTD_freeCCtx(z->cctx[1]);
	ZSTD_freeCCtx(z->cctx[2]);
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
	r = ZSTD_compress2(z->cctx[n <= CLASS_SMALL ? 0 : n <= CLASS_MID ? 1 :
	    2], out, cap, in, n);
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
