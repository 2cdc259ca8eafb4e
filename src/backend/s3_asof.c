/*
 * The view of a versioned bucket as it stood at a past moment: which
 * version of each object decides.
 *
 * The rule: of an object's versions and delete markers, the newest whose
 * LastModified is at or before the moment decides; a version makes the
 * object visible with its bytes and size, a delete marker (or nothing)
 * makes it absent.  S3 lists each key's entries together, newest first, so
 * the listing is read as a stream and one candidate per name is kept; a
 * tie in LastModified (which has millisecond resolution) goes to the entry
 * listed first, the newer one.  A server that does not group a key's
 * entries only costs a duplicate, which finish() resolves by the same rule.
 * Memory is bounded by the number of names kept, never by the number of
 * versions walked.
 */
#include <stdlib.h>
#include <string.h>

#include "s3_internal.h"

void
s3_asof_init(struct s3_asof_map *m, int64_t as_of_ms, size_t max)
{
	memset(m, 0, sizeof(*m));
	m->as_of_ms = as_of_ms;
	m->max = max;
}

/* Does a decide over b?  Newer wins; of equal times, the one listed
 * first. */
static int
better(const struct s3_asof_ent *a, const struct s3_asof_ent *b)
{
	if (a->mtime_ms != b->mtime_ms)
		return a->mtime_ms > b->mtime_ms;
	return a->seq < b->seq;
}

int
s3_asof_offer(struct s3_asof_map *m, const char *name,
    const char *version_id, uint64_t size, int64_t mtime_ms, int marker)
{
	struct s3_asof_ent cand, *last, *grown;

	m->seq++;
	/* When history starts, for "nothing was there yet" messages. */
	if (!marker && (m->oldest_ms == 0 || mtime_ms < m->oldest_ms))
		m->oldest_ms = mtime_ms;
	if (mtime_ms > m->as_of_ms)
		return 0; /* did not exist yet at the moment */
	if (strlen(name) >= sizeof(cand.name))
		return 0; /* not an object name */
	memset(&cand, 0, sizeof(cand));
	strcpy(cand.name, name);
	cand.size = size;
	cand.mtime_ms = mtime_ms;
	cand.seq = m->seq;
	cand.marker = marker;
	last = m->n > 0 ? &m->v[m->n - 1] : NULL;
	if (last != NULL && strcmp(last->name, name) == 0) {
		if (!better(&cand, last))
			return 0;
		if ((cand.version_id = strdup(version_id)) == NULL)
			return -1;
		free(last->version_id);
		*last = cand;
		return 0;
	}
	if (m->n >= m->max)
		return -2;
	if (m->n == m->cap) {
		size_t ncap = m->cap ? 2 * m->cap : 1024;

		if (ncap > m->max)
			ncap = m->max;
		if ((grown = realloc(m->v, ncap * sizeof(*grown))) == NULL)
			return -1;
		m->v = grown;
		m->cap = ncap;
	}
	if ((cand.version_id = strdup(version_id)) == NULL)
		return -1;
	m->v[m->n++] = cand;
	return 0;
}

/* By name; of one name, the deciding entry first. */
static int
entcmp(const void *pa, const void *pb)
{
	const struct s3_asof_ent *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	if (c != 0)
		return c;
	return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

void
s3_asof_finish(struct s3_asof_map *m)
{
	size_t i, o = 0;
	int first;

	if (m->n > 1)
		qsort(m->v, m->n, sizeof(m->v[0]), entcmp);
	/* Entries before i are never overwritten by entries after it
	 * (o <= i), so v[i - 1].name is still there to compare. */
	for (i = 0; i < m->n; i++) {
		first = i == 0 || strcmp(m->v[i - 1].name, m->v[i].name) != 0;
		if (!first || m->v[i].marker) {
			/* A loser, or a winner that is a delete marker. */
			free(m->v[i].version_id);
			m->v[i].version_id = NULL;
			continue;
		}
		m->v[o++] = m->v[i];
	}
	m->n = o;
}

static int
namecmp(const void *key, const void *ent)
{
	return strcmp(key, ((const struct s3_asof_ent *)ent)->name);
}

const struct s3_asof_ent *
s3_asof_find(const struct s3_asof_map *m, const char *name)
{
	if (m->n == 0)
		return NULL;
	return bsearch(name, m->v, m->n, sizeof(m->v[0]), namecmp);
}

void
s3_asof_fini(struct s3_asof_map *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].version_id);
	free(m->v);
	memset(m, 0, sizeof(*m));
}
