/*
 * compress: zstd frames for blobs, skipped when they do not pay.
 *
 * A blob is stored compressed only if that saves at least 1/32 of it
 * (media files, archives and encrypted data are stored raw, and restoring
 * them costs no decompression).  Decompression is bounded by the caller's
 * expected size, so a hostile frame cannot expand without limit.
 */
#ifndef GFSBACKUP_COMPRESS_H
#define GFSBACKUP_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/util.h>

#define GFSB_COMPRESS_LEVEL_DEFAULT 3
#define GFSB_COMPRESS_LEVEL_MAX 19

struct gfsb_compress;

/*
 * gfsb_compress_new(level, out):
 * A compression context (one per thread).  level 0 disables compression;
 * 1..GFSB_COMPRESS_LEVEL_MAX are zstd levels.  GFSB_EINVAL, GFSB_ENOMEM.
 */
gfsb_err gfsb_compress_new(int level, struct gfsb_compress **out) GFSB_WUR;

/*
 * gfsb_compress_free(z):
 * Free z.  NULL is allowed.
 */
void gfsb_compress_free(struct gfsb_compress *z);

/*
 * gfsb_compress_bound(n):
 * The most bytes gfsb_compress_blob can write for n input bytes.
 */
size_t gfsb_compress_bound(size_t n);

/*
 * gfsb_compress_blob(z, in, n, out, cap, outlen):
 * Compress in[0..n) into out (cap >= gfsb_compress_bound(n)).  Sets
 * *outlen to the compressed size, or to 0 when the blob should be stored
 * raw (compression disabled, or it saves too little).  GFSB_ENOMEM on a
 * zstd failure.
 */
gfsb_err gfsb_compress_blob(struct gfsb_compress *z, const uint8_t *in,
    size_t n, uint8_t *out, size_t cap, size_t *outlen) GFSB_WUR;

/*
 * gfsb_compress_unblob(z, in, n, out, rawlen):
 * Decompress one zstd frame of n bytes that must expand to exactly rawlen
 * bytes into out.  GFSB_ECORRUPT if the frame is damaged or its size is
 * not rawlen; never writes more than rawlen bytes.
 */
gfsb_err gfsb_compress_unblob(struct gfsb_compress *z, const uint8_t *in,
    size_t n, uint8_t *out, size_t rawlen) GFSB_WUR;

#endif /* !GFSBACKUP_COMPRESS_H */
