/*
 * chunker: content-defined chunking with FastCDC.
 *
 * Boundaries depend only on content (and the secret gear table), so an
 * insertion early in a file moves only the chunks around it: the rest are
 * found again and deduplicated.  The gear table is derived from the
 * repository's secret seed, so chunk sizes do not reveal which known file
 * was stored.  Normalized chunking (a harder mask before the average size,
 * an easier one after) keeps sizes close to the average.
 */
#ifndef GFSBACKUP_CHUNKER_H
#define GFSBACKUP_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#include <gfsbackup/util.h>

/* Limits on chunk sizes accepted by gfsb_chunker_new. */
#define GFSB_CHUNK_MIN_LIMIT 64
#define GFSB_CHUNK_MAX_LIMIT (64U << 20)

/* Defaults: 512 KiB / 1 MiB / 8 MiB. */
#define GFSB_CHUNK_MIN_DEFAULT (512U << 10)
#define GFSB_CHUNK_AVG_DEFAULT (1U << 20)
#define GFSB_CHUNK_MAX_DEFAULT (8U << 20)

struct gfsb_chunker_params {
	uint32_t min; /* no boundary before this many bytes */
	uint32_t avg; /* target average; where the mask changes */
	uint32_t max; /* a boundary is forced here */
};

struct gfsb_chunker;

/*
 * gfsb_chunker_params_check(p):
 * GFSB_OK when GFSB_CHUNK_MIN_LIMIT <= min < avg < max <=
 * GFSB_CHUNK_MAX_LIMIT and avg is a power of two; GFSB_EINVAL otherwise.
 */
gfsb_err gfsb_chunker_params_check(const struct gfsb_chunker_params *p)
    GFSB_WUR;

/*
 * gfsb_chunker_new(p, gear, out):
 * Create a chunker with sizes p and the 256-entry gear table gear (derived
 * by the caller from a secret seed).  GFSB_EINVAL for bad sizes,
 * GFSB_ENOMEM.  The chunker is read-only once created: any number of
 * threads may use it, each with its own gfsb_chunker_scan.
 */
gfsb_err gfsb_chunker_new(const struct gfsb_chunker_params *p,
    const uint64_t gear[256], struct gfsb_chunker **out) GFSB_WUR;

/*
 * gfsb_chunker_free(ck):
 * Free ck.  NULL is allowed.
 */
void gfsb_chunker_free(struct gfsb_chunker *ck);

/*
 * gfsb_chunker_get_params(ck):
 * The sizes ck was created with.  Borrowed for ck's lifetime.
 */
const struct gfsb_chunker_params *gfsb_chunker_get_params(
    const struct gfsb_chunker *ck);

/*
 * The state of a scan for the end of one chunk.  Caller's storage: call
 * gfsb_chunker_scan_init at the start of every chunk.
 */
struct gfsb_chunker_scan {
	uint64_t fp;  /* rolling fingerprint */
	size_t pos;   /* next byte of the chunk to examine */
};

/*
 * gfsb_chunker_scan_init(s):
 * Start a new chunk.
 */
void gfsb_chunker_scan_init(struct gfsb_chunker_scan *s);

/*
 * gfsb_chunker_find(ck, s, chunk, len):
 * chunk[0..len) holds the bytes of the current chunk read so far, from its
 * first byte.  Continue the scan from where s left it and return the chunk's
 * length if its end is within those bytes, or 0 if more data is needed.
 * Never returns 0 when len >= max.  At end of input, a 0 means the
 * remaining len bytes are the last chunk.  The result does not depend on
 * how the input was split across calls.
 */
size_t gfsb_chunker_find(const struct gfsb_chunker *ck,
    struct gfsb_chunker_scan *s, const uint8_t *chunk, size_t len);

/*
 * gfsb_chunker_next(ck, buf, len):
 * The length of the first chunk of buf[0..len), treating its end as the end
 * of input.  Returns 0 only for len == 0.
 */
size_t gfsb_chunker_next(const struct gfsb_chunker *ck, const uint8_t *buf,
    size_t len);

#endif /* !GFSBACKUP_CHUNKER_H */
