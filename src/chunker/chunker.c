/*
 * FastCDC (Xia et al., USENIX ATC 2016) with normalized chunking, level 2.
 *
 * The fingerprint is a gear hash: fp = (fp << 1) + gear[byte].  Bit k of fp
 * depends on the last k + 1 bytes, so the masks test the top bits, which
 * see a 64-byte window.  The first `min` bytes of a chunk are skipped
 * without hashing (FastCDC's cut-point skipping); from min to avg the mask
 * has log2(avg) + 2 bits (cuts are rare), after avg it has log2(avg) - 2
 * bits (cuts come soon), and max forces a cut.  State is only (fp, pos), so
 * a scan can resume exactly where a short read left it.
 */
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/chunker.h>

struct gfsb_chunker {
	struct gfsb_chunker_params p;
	uint64_t mask_s; /* before avg: harder */
	uint64_t mask_l; /* after avg: easier */
	uint64_t gear[256];
};

static unsigned
log2u(uint32_t v)
{
	unsigned n = 0;

	while (v >>= 1)
		n++;
	return n;
}

/* The top `bits` bits set. */
static uint64_t
top_mask(unsigned bits)
{
	return bits == 0 ? 0 : ~UINT64_C(0) << (64 - bits);
}

gfsb_err
gfsb_chunker_params_check(const struct gfsb_chunker_params *p)
{
	if (p->min < GFSB_CHUNK_MIN_LIMIT || p->max > GFSB_CHUNK_MAX_LIMIT ||
	    p->min >= p->avg || p->avg >= p->max ||
	    (p->avg & (p->avg - 1)) != 0)
		return GFSB_EINVAL;
	return GFSB_OK;
}

gfsb_err
gfsb_chunker_new(const struct gfsb_chunker_params *p,
    const uint64_t gear[256], struct gfsb_chunker **out)
{
	struct gfsb_chunker *ck;
	unsigned bits;

	if (gfsb_chunker_params_check(p) != GFSB_OK)
		return GFSB_EINVAL;
	if ((ck = malloc(sizeof(*ck))) == NULL)
		return GFSB_ENOMEM;
	ck->p = *p;
	bits = log2u(p->avg);
	ck->mask_s = top_mask(bits + 2);
	ck->mask_l = top_mask(bits > 2 ? bits - 2 : 1);
	memcpy(ck->gear, gear, sizeof(ck->gear));
	*out = ck;
	return GFSB_OK;
}

void
gfsb_chunker_free(struct gfsb_chunker *ck)
{
	free(ck);
}

const struct gfsb_chunker_params *
gfsb_chunker_get_params(const struct gfsb_chunker *ck)
{
	return &ck->p;
}

void
gfsb_chunker_scan_init(struct gfsb_chunker_scan *s)
{
	s->fp = 0;
	s->pos = 0;
}

size_t
gfsb_chunker_find(const struct gfsb_chunker *ck, struct gfsb_chunker_scan *s,
    const uint8_t *chunk, size_t len)
{
	const uint64_t *gear = ck->gear;
	uint64_t fp = s->fp;
	size_t i = s->pos, end, normal;

	if (i < ck->p.min)
		i = ck->p.min;
	end = len < ck->p.max ? len : ck->p.max;
	normal = end < ck->p.avg ? end : ck->p.avg;
	for (; i < normal; i++) {
		fp = (fp << 1) + gear[chunk[i]];
		if ((fp & ck->mask_s) == 0)
			return i + 1;
	}
	for (; i < end; i++) {
		fp = (fp << 1) + gear[chunk[i]];
		if ((fp & ck->mask_l) == 0)
			return i + 1;
	}
	if (end == ck->p.max)
		return end;
	s->fp = fp;
	s->pos = i > len ? len : i;
	return 0;
}

size_t
gfsb_chunker_next(const struct gfsb_chunker *ck, const uint8_t *buf,
    size_t len)
{
	struct gfsb_chunker_scan s;
	size_t n;

	gfsb_chunker_scan_init(&s);
	n = gfsb_chunker_find(ck, &s, buf, len);
	return n ? n : len;
}
