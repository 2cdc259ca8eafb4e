/*
 * A set of blob ids (open addressing; ids are hashes or MACs, so their
 * first bytes are already uniform), for the engines that compare what
 * snapshots use (diff, stats).
 */
#include <stdlib.h>
#include <string.h>

#include "ops_internal.h"

static size_t
slot_of(const uint8_t *id, size_t cap)
{
	size_t h;

	memcpy(&h, id, sizeof(h));
	return h & (cap - 1);
}

int
ops_idset_has(const struct ops_idset *s, const uint8_t *id)
{
	size_t i;

	if (s->cap == 0)
		return 0;
	for (i = slot_of(id, s->cap); s->v[i].used; i = (i + 1) & (s->cap - 1))
		if (memcmp(s->v[i].id, id, GFSB_ID_LEN) == 0)
			return 1;
	return 0;
}

/* Twice the room, every id placed again. */
static gfsb_err
grow(struct ops_idset *s)
{
	size_t ncap = s->cap == 0 ? 256 : s->cap * 2, i, j;
	struct ops_idslot *nv;

	if ((nv = calloc(ncap, sizeof(*nv))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < s->cap; i++) {
		if (!s->v[i].used)
			continue;
		for (j = slot_of(s->v[i].id, ncap); nv[j].used;
		    j = (j + 1) & (ncap - 1))
			;
		nv[j] = s->v[i];
	}
	free(s->v);
	s->v = nv;
	s->cap = ncap;
	return GFSB_OK;
}

gfsb_err
ops_idset_add(struct ops_idset *s, const uint8_t *id, int *added)
{
	size_t i;
	gfsb_err e;

	*added = 0;
	if (ops_idset_has(s, id))
		return GFSB_OK;
	if ((s->n + 1) * 2 > s->cap && (e = grow(s)) != GFSB_OK)
		return e;
	for (i = slot_of(id, s->cap); s->v[i].used; i = (i + 1) & (s->cap - 1))
		;
	memcpy(s->v[i].id, id, GFSB_ID_LEN);
	s->v[i].used = 1;
	s->n++;
	*added = 1;
	return GFSB_OK;
}

void
ops_idset_fini(struct ops_idset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
