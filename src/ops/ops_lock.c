/*
 * Object Lock dates: the retain-until date each object of a repository
 * needs under the retention policy, and the nightly pass that extends
 * the locks of a locked copy to those dates.
 *
 * A snapshot needs the date the policy could first drop it, plus a margin
 * (gfsb_gfs_lock_dates: a son until its daily horizon, a promoted
 * weekly, monthly or yearly until its role's expiry).  A pack needs the
 * latest date of the snapshots that use it (a blob kept by a yearly keeps
 * its whole pack), an index file the latest of its packs', key files and
 * the config the longest the policy can ask (gfsb_gfs_lock_longest).
 * Objects no kept snapshot needs get nothing more than they have.
 *
 * What is known of the dates already set lives in a ledger, a file kept
 * beside the verification state: the nightly pass reads it, asks storage
 * (HEAD) only for objects it does not know, and extends only what falls
 * short, one son window beyond the need, so that an object in use is
 * extended about once per window, not every night.  The ledger is an
 * optimisation, never trusted for safety: a date it overstates is found
 * by the verifier, which reads the real ones; one it understates costs
 * a request.  Snapshots whose date did not grow since the ledger last
 * saw them are not walked again: their packs already have their date.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define SLACK_MAX (31 * 86400)
#define LEDGER_MAGIC "gfsb-locks-1\n"
#define LEDGER_REC (1 + GFSB_ID_LEN + 8)

/* ---- a map from object ids to dates ---- */

struct idmap_slot {
	uint8_t id[GFSB_ID_LEN];
	int64_t v;
	int used;
};

struct idmap {
	struct idmap_slot *s;
	size_t n, cap; /* cap: 0 or a power of two */
};

static size_t
idmap_hash(const uint8_t *id)
{
	size_t h;

	memcpy(&h, id, sizeof(h)); /* ids are hashes already */
	return h;
}

static struct idmap_slot *
idmap_find(const struct idmap *m, const uint8_t *id)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = idmap_hash(id) & (m->cap - 1); m->s[i].used;
	    i = (i + 1) & (m->cap - 1))
		if (memcmp(m->s[i].id, id, GFSB_ID_LEN) == 0)
			return &m->s[i];
	return NULL;
}

static gfsb_err
idmap_grow(struct idmap *m)
{
	struct idmap_slot *old = m->s, *ns;
	size_t ocap = m->cap, ncap = ocap ? 2 * ocap : 1024, i, j;

	if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < ocap; i++) {
		if (!old[i].used)
			continue;
		for (j = idmap_hash(old[i].id) & (ncap - 1); ns[j].used;
		    j = (j + 1) & (ncap - 1))
			;
		ns[j] = old[i];
	}
	free(old);
	m->s = ns;
	m->cap = ncap;
	return GFSB_OK;
}

/* Raise id's date to at least v (insert it if absent). */
static gfsb_err
idmap_raise(struct idmap *m, const uint8_t *id, int64_t v)
{
	struct idmap_slot *sl;
	size_t i;
	gfsb_err e;

	if ((sl = idmap_find(m, id)) != NULL) {
		if (v > sl->v)
			sl->v = v;
		return GFSB_OK;
	}
	if ((m->n + 1) * 4 > m->cap * 3 && (e = idmap_grow(m)) != GFSB_OK)
		return e;
	for (i = idmap_hash(id) & (m->cap - 1); m->s[i].used;
	    i = (i + 1) & (m->cap - 1))
		;
	memcpy(m->s[i].id, id, GFSB_ID_LEN);
	m->s[i].v = v;
	m->s[i].used = 1;
	m->n++;
	return GFSB_OK;
}

/* Set id's date to v, whatever it was. */
static gfsb_err
idmap_set(struct idmap *m, const uint8_t *id, int64_t v)
{
	struct idmap_slot *sl = idmap_find(m, id);

	if (sl != NULL) {
		sl->v = v;
		return GFSB_OK;
	}
	return idmap_raise(m, id, v);
}

static int64_t
idmap_get(const struct idmap *m, const uint8_t *id)
{
	const struct idmap_slot *sl = idmap_find(m, id);

	return sl != NULL ? sl->v : 0;
}

static void
idmap_fini(struct idmap *m)
{
	free(m->s);
	memset(m, 0, sizeof(*m));
}

/* The id of an object name ("config" is all zeros). */
static void
name_id(const char *name, uint8_t id[GFSB_ID_LEN])
{
	if (gfsb_hex_decode(name, id, GFSB_ID_LEN) != GFSB_OK)
		memset(id, 0, GFSB_ID_LEN);
}

/* ---- the ledger ---- */

struct ops_ledger {
	char *path; /* NULL: kept in memory only */
	struct idmap m[GFSB_OBJ_NTYPES];
	int dirty;
	pthread_mutex_t mu;
};

gfsb_err
ops_ledger_open(const char *path, struct ops_ledger **out)
{
	struct ops_ledger *l;
	uint8_t rec[LEDGER_REC], magic[sizeof(LEDGER_MAGIC) - 1];
	int64_t v;
	FILE *f;
	int i;
	gfsb_err e = GFSB_OK;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return GFSB_ENOMEM;
	pthread_mutex_init(&l->mu, NULL);
	*out = l;
	if (path == NULL)
		return GFSB_OK;
	if ((l->path = strdup(path)) == NULL)
		return GFSB_ENOMEM;
	/* A ledger that is missing or not ours is an empty one: the dates
	 * are read from storage again. */
	if ((f = fopen(path, "rb")) == NULL)
		return GFSB_OK;
	if (fread(magic, 1, sizeof(magic), f) != sizeof(magic) ||
	    memcmp(magic, LEDGER_MAGIC, sizeof(magic)) != 0) {
		fclose(f);
		return GFSB_OK;
	}
	while (e == GFSB_OK && fread(rec, 1, sizeof(rec), f) == sizeof(rec)) {
		if (rec[0] >= GFSB_OBJ_NTYPES)
			continue;
		for (v = 0, i = 7; i >= 0; i--)
			v = (v << 8) | rec[1 + GFSB_ID_LEN + i];
		e = idmap_set(&l->m[rec[0]], rec + 1, v);
	}
	fclose(f);
	return e;
}

int64_t
ops_ledger_get(struct ops_ledger *l, enum gfsb_obj type, const char *name)
{
	uint8_t id[GFSB_ID_LEN];
	int64_t v;

	name_id(name, id);
	pthread_mutex_lock(&l->mu);
	v = idmap_get(&l->m[type], id);
	pthread_mutex_unlock(&l->mu);
	return v;
}

gfsb_err
ops_ledger_set(struct ops_ledger *l, enum gfsb_obj type, const char *name,
    int64_t until)
{
	uint8_t id[GFSB_ID_LEN];
	gfsb_err e;

	name_id(name, id);
	pthread_mutex_lock(&l->mu);
	e = idmap_set(&l->m[type], id, until);
	l->dirty = 1;
	pthread_mutex_unlock(&l->mu);
	return e;
}

/* Forget the objects of type that are not in the listing (deleted). */
void
ops_ledger_prune(struct ops_ledger *l, enum gfsb_obj type,
    const struct gfsb_objlist *listed)
{
	struct idmap *m = &l->m[type];
	struct idmap keep;
	char hex[GFSB_ID_HEX];
	size_t i;

	memset(&keep, 0, sizeof(keep));
	for (i = 0; i < m->cap; i++) {
		if (!m->s[i].used)
			continue;
		gfsb_hex_encode(m->s[i].id, GFSB_ID_LEN, hex);
		if (type != GFSB_OBJ_CONFIG &&
		    gfsb_objlist_find(listed, hex) == NULL)
			continue;
		if (idmap_set(&keep, m->s[i].id, m->s[i].v) != GFSB_OK) {
			idmap_fini(&keep);
			return; /* keep it all: only a cost */
		}
	}
	idmap_fini(m);
	*m = keep;
	l->dirty = 1;
}

/* Write the ledger whole or not at all: temporary file, fsync, rename. */
gfsb_err
ops_ledger_save(struct ops_ledger *l)
{
	char *tmp = NULL, *dir = NULL, *slash;
	uint8_t rec[LEDGER_REC];
	FILE *f = NULL;
	size_t t, i;
	int k, fd;
	gfsb_err e = GFSB_EIO;

	if (l == NULL || l->path == NULL || !l->dirty)
		return GFSB_OK;
	if ((dir = strdup(l->path)) == NULL ||
	    asprintf(&tmp, "%s.tmp.%ld", l->path, (long)getpid()) < 0) {
		free(dir);
		return GFSB_ENOMEM;
	}
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		(void)gfsb_sys_mkdirs(dir);
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0 || (f = fdopen(fd, "wb")) == NULL)
		goto out;
	if (fwrite(LEDGER_MAGIC, 1, sizeof(LEDGER_MAGIC) - 1, f) !=
	    sizeof(LEDGER_MAGIC) - 1)
		goto out;
	for (t = 0; t < GFSB_OBJ_NTYPES; t++)
		for (i = 0; i < l->m[t].cap; i++) {
			if (!l->m[t].s[i].used)
				continue;
			rec[0] = (uint8_t)t;
			memcpy(rec + 1, l->m[t].s[i].id, GFSB_ID_LEN);
			for (k = 0; k < 8; k++)
				rec[1 + GFSB_ID_LEN + k] = (uint8_t)
				    ((uint64_t)l->m[t].s[i].v >> (8 * k));
			if (fwrite(rec, 1, sizeof(rec), f) != sizeof(rec))
				goto out;
		}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		goto out;
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (rename(tmp, l->path) != 0)
		goto out;
	l->dirty = 0;
	e = GFSB_OK;
out:
	if (f != NULL)
		fclose(f);
	if (e != GFSB_OK)
		unlink(tmp);
	free(tmp);
	free(dir);
	return e;
}

void
ops_ledger_free(struct ops_ledger *l)
{
	int t;

	if (l == NULL)
		return;
	for (t = 0; t < GFSB_OBJ_NTYPES; t++)
		idmap_fini(&l->m[t]);
	pthread_mutex_destroy(&l->mu);
	free(l->path);
	free(l);
}

/* ---- the plan ---- */

struct ops_lock_plan {
	int64_t now, fresh, longest, slack;
	struct idmap snaps, packs, index;
};

void
ops_lock_plan_free(struct ops_lock_plan *p)
{
	if (p == NULL)
		return;
	idmap_fini(&p->snaps);
	idmap_fini(&p->packs);
	idmap_fini(&p->index);
	free(p);
}

int64_t
ops_lock_need(const struct ops_lock_plan *p, enum gfsb_obj type,
    const char *name)
{
	uint8_t id[GFSB_ID_LEN];

	switch (type) {
	case GFSB_OBJ_KEY:
	case GFSB_OBJ_CONFIG:
		return p->longest;
	case GFSB_OBJ_SNAPSHOT:
		name_id(name, id);
		return idmap_get(&p->snaps, id);
	case GFSB_OBJ_PACK:
		name_id(name, id);
		return idmap_get(&p->packs, id);
	case GFSB_OBJ_INDEX:
		name_id(name, id);
		return idmap_get(&p->index, id);
	default:
		return 0;
	}
}

int64_t
ops_lock_fresh(const struct ops_lock_plan *p)
{
	return p->fresh;
}

int64_t
ops_lock_longest(const struct ops_lock_plan *p)
{
	return p->longest;
}

/* A tree to walk, with the date of the snapshot that leads to it. */
struct walk {
	uint8_t (*v)[GFSB_ID_LEN];
	size_t n, cap;
};

static gfsb_err
walk_push(struct walk *w, const uint8_t id[GFSB_ID_LEN])
{
	uint8_t (*nv)[GFSB_ID_LEN];

	if (w->n == w->cap) {
		size_t ncap = w->cap ? 2 * w->cap : 256;

		if ((nv = realloc(w->v, ncap * sizeof(*nv))) == NULL)
			return GFSB_ENOMEM;
		w->v = nv;
		w->cap = ncap;
	}
	memcpy(w->v[w->n++], id, GFSB_ID_LEN);
	return GFSB_OK;
}

/* The pack of blob id gets at least `until`.  A blob no index names is
 * damage for verify to report, not a reason to stop here. */
static gfsb_err
raise_blob(struct gfsb_repo *r, struct ops_lock_plan *p,
    enum gfsb_blob_type type, const uint8_t id[GFSB_ID_LEN], int64_t until)
{
	struct gfsb_blob_loc loc;

	if (gfsb_repo_index_lookup(r, type, id, &loc) != GFSB_OK)
		return GFSB_OK;
	return idmap_raise(&p->packs, loc.pack, until);
}

/*
 * Give every pack a snapshot reaches the snapshot's date.  Snapshots go
 * latest date first, and a tree already walked is not walked again: it
 * was reached with a date no earlier.  *trees counts the trees read.
 */
static gfsb_err
walk_snapshot(struct gfsb_repo *r, struct gfsb_repo_io *io,
    struct ops_lock_plan *p, struct idmap *seen,
    const struct gfsb_snapshot *s, int64_t until, uint64_t *trees)
{
	struct walk w = { NULL, 0, 0 };
	struct gfsb_tree t;
	uint8_t cur[GFSB_ID_LEN];
	size_t j, k;
	gfsb_err e;

	gfsb_repo_tree_init(&t);
	e = walk_push(&w, s->tree);
	while (e == GFSB_OK && w.n > 0) {
		memcpy(cur, w.v[--w.n], GFSB_ID_LEN);
		if (idmap_find(seen, cur) != NULL)
			continue;
		if ((e = idmap_raise(seen, cur, until)) != GFSB_OK ||
		    (e = raise_blob(r, p, GFSB_BLOB_TREE, cur, until)) !=
		    GFSB_OK)
			break;
		if ((e = gfsb_repo_tree_load(io, cur, &t)) != GFSB_OK) {
			if (!gfsb_err_is_damage(e))
				break;
			/* Damage is verify's to report; go on. */
			gfsb_ctx_clearerr(gfsb_repo_ctx(r));
			e = GFSB_OK;
			continue;
		}
		(*trees)++;
		for (j = 0; j < t.n && e == GFSB_OK; j++) {
			const struct gfsb_node *nd = &t.nodes[j];

			if (nd->kind == GFSB_NODE_DIR) {
				e = walk_push(&w, nd->subtree);
				continue;
			}
			for (k = 0; k < nd->nextents && e == GFSB_OK; k++)
				if (!nd->extents[k].hole)
					e = raise_blob(r, p, GFSB_BLOB_DATA,
					    nd->extents[k].id, until);
		}
		gfsb_repo_tree_fini(&t);
	}
	gfsb_repo_tree_fini(&t);
	free(w.v);
	return e;
}

struct order {
	size_t i;
	int64_t until;
};

static int
ordercmp(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	return x->until < y->until ? 1 : x->until > y->until ? -1 : 0;
}

/* What the plan needs of one index file: the packs it names. */
struct ifacts {
	uint8_t id[GFSB_ID_LEN];
	uint8_t (*packs)[GFSB_ID_LEN];
	size_t npacks;
	uint8_t (*sup)[GFSB_ID_LEN]; /* the files it replaced */
	size_t nsup;
	int supersedes; /* it replaced others: a prune or repair wrote it */
	int superseded; /* another file replaced it: it needs nothing */
};

static void
ifacts_free(struct ifacts *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].packs);
		free(v[i].sup);
	}
	free(v);
}

/* Mark the files another present file supersedes. */
static void
ifacts_superseded(struct ifacts *v, size_t n)
{
	size_t i, j, k;

	for (i = 0; i < n; i++)
		for (j = 0; j < v[i].nsup; j++)
			for (k = 0; k < n; k++)
				if (k != i && memcmp(v[k].id, v[i].sup[j],
				    GFSB_ID_LEN) == 0)
					v[k].superseded = 1;
}

/* Read every index file's pack list (a damaged one is verify's to
 * report: left out). */
static gfsb_err
read_ifacts(struct gfsb_repo *r, struct ifacts **out, size_t *nout)
{
	struct gfsb_objlist names;
	struct gfsb_index_file f;
	struct ifacts *v = NULL;
	size_t i, j, n = 0;
	gfsb_err e;

	*out = NULL;
	*nout = 0;
	if ((e = gfsb_backend_list_all(gfsb_repo_backend(r), GFSB_OBJ_INDEX,
	    &names)) != GFSB_OK)
		return e;
	if (names.n > 0 && (v = calloc(names.n, sizeof(*v))) == NULL) {
		gfsb_objlist_fini(&names);
		return GFSB_ENOMEM;
	}
	for (i = 0; i < names.n && e == GFSB_OK; i++) {
		if ((e = gfsb_repo_index_file_read(r, names.v[i].name, &f)) !=
		    GFSB_OK) {
			gfsb_repo_index_file_fini(&f);
			if (!gfsb_err_is_damage(e))
				break;
			gfsb_ctx_clearerr(gfsb_repo_ctx(r));
			e = GFSB_OK;
			continue;
		}
		memcpy(v[n].id, names.v[i].id, GFSB_ID_LEN);
		v[n].supersedes = f.nsupersedes > 0;
		v[n].sup = f.supersedes;
		v[n].nsup = f.nsupersedes;
		f.supersedes = NULL;
		f.nsupersedes = 0;
		if (f.npacks > 0 && (v[n].packs = malloc(f.npacks *
		    sizeof(*v[n].packs))) == NULL)
			e = GFSB_ENOMEM;
		for (j = 0; e == GFSB_OK && j < f.npacks; j++)
			memcpy(v[n].packs[j], f.packs[j].id, GFSB_ID_LEN);
		v[n++].npacks = f.npacks;
		gfsb_repo_index_file_fini(&f);
	}
	gfsb_objlist_fini(&names);
	if (e != GFSB_OK) {
		ifacts_free(v, n);
		return e;
	}
	ifacts_superseded(v, n);
	*out = v;
	*nout = n;
	return GFSB_OK;
}

/* Index files in force: the latest date of the packs each names (one
 * another file supersedes no longer counts, whatever it names). */
static gfsb_err
plan_index(struct ops_lock_plan *p, const struct ifacts *v, size_t n)
{
	int64_t until, d;
	size_t i, j;
	gfsb_err e = GFSB_OK;

	for (i = 0; i < n && e == GFSB_OK; i++) {
		if (v[i].superseded)
			continue;
		for (j = 0, until = 0; j < v[i].npacks; j++)
			if ((d = idmap_get(&p->packs, v[i].packs[j])) > until)
				until = d;
		if (until > 0)
			e = idmap_raise(&p->index, v[i].id, until);
	}
	return e;
}

/*
 * Walk everything when the ledger cannot be trusted to know which packs
 * have their dates: there is none, or an index file it has not seen
 * replaced others (a prune repacked blobs into new packs, which no walk
 * has dated yet).
 */
static int
walk_all(struct ops_ledger *ledger, const struct ifacts *v, size_t n)
{
	char hex[GFSB_ID_HEX];
	size_t i;

	if (ledger == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if (!v[i].supersedes)
			continue;
		gfsb_hex_encode(v[i].id, GFSB_ID_LEN, hex);
		if (ops_ledger_get(ledger, GFSB_OBJ_INDEX, hex) == 0)
			return 1;
	}
	return 0;
}

/* A plan of no snapshot yet: the dates every object gets whatever it
 * holds, and the son window. */
static struct ops_lock_plan *
plan_new(const struct gfsb_lock_opts *lo)
{
	struct ops_lock_plan *p;
	struct gfsb_gfs_decision d1;
	struct gfsb_gfs_item item;
	int64_t son;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->now = lo->now.sec;
	p->fresh = lo->now.sec + lo->margin;
	p->longest = lo->policy != NULL ? gfsb_gfs_lock_longest(lo->policy,
	    &lo->now, lo->margin) : p->fresh;
	/* The son window: how long a snapshot taken now is locked. */
	p->slack = 0;
	if (lo->policy != NULL) {
		memset(&item, 0, sizeof(item));
		item.time = lo->now;
		if (gfsb_gfs_apply(lo->policy, &item, 1, &lo->now, &d1) ==
		    GFSB_OK && gfsb_gfs_lock_dates(lo->policy, &item, 1, &d1,
		    &lo->now, 0, &son) == GFSB_OK && son > lo->now.sec)
			p->slack = son - lo->now.sec;
	}
	if (p->slack > SLACK_MAX)
		p->slack = SLACK_MAX;
	return p;
}

gfsb_err
ops_lock_plan_new_only(const struct gfsb_lock_opts *lo,
    struct ops_lock_plan **out)
{
	if ((*out = plan_new(lo)) == NULL)
		return GFSB_ENOMEM;
	/* What a write-only key copies tonight is mostly what tonight's
	 * snapshot needs: locked as a son is, at least. */
	(*out)->fresh += (*out)->slack;
	return GFSB_OK;
}

gfsb_err
ops_lock_plan_make(struct gfsb_repo *r, const struct gfsb_lock_opts *lo,
    struct ops_ledger *ledger, struct ops_lock_plan **out,
    struct gfsb_lock_result *res)
{
	struct gfsb_snapshot **snaps = NULL;
	struct gfsb_gfs_decision *dec = NULL;
	struct ops_lock_plan *p;
	struct gfsb_repo_io *io = NULL;
	struct ifacts *ifv = NULL;
	struct order *ord = NULL;
	struct idmap seen;
	int64_t *until = NULL;
	size_t n = 0, nif = 0, i;
	int all;
	gfsb_err e = GFSB_ENOMEM;

	*out = NULL;
	memset(&seen, 0, sizeof(seen));
	if ((p = plan_new(lo)) == NULL)
		return GFSB_ENOMEM;
	if ((e = gfsb_repo_index_load(r)) != GFSB_OK ||
	    (e = gfsb_repo_snapshot_list(r, &snaps, &n)) != GFSB_OK ||
	    (e = read_ifacts(r, &ifv, &nif)) != GFSB_OK)
		goto out;
	e = GFSB_ENOMEM;
	if (n > 0 && ((until = calloc(n, sizeof(*until))) == NULL ||
	    (dec = calloc(n, sizeof(*dec))) == NULL ||
	    (ord = calloc(n, sizeof(*ord))) == NULL))
		goto out;
	if (lo->policy != NULL) {
		if ((e = ops_decide_locks(lo->policy, lo->group_by, snaps, n,
		    &lo->now, lo->margin, dec, until)) != GFSB_OK)
			goto out;
	} else {
		for (i = 0; i < n; i++)
			until[i] = p->fresh;
	}
	e = GFSB_OK;
	for (i = 0; i < n && e == GFSB_OK; i++) {
		uint8_t id[GFSB_ID_LEN];

		ord[i].i = i;
		ord[i].until = until[i];
		name_id(snaps[i]->id, id);
		if (until[i] > 0)
			e = idmap_raise(&p->snaps, id, until[i]);
	}
	if (e != GFSB_OK)
		goto out;
	if (n > 1)
		qsort(ord, n, sizeof(*ord), ordercmp);
	if ((e = gfsb_repo_io_new(r, &io)) != GFSB_OK)
		goto out;
	/* Walk what needs more than the ledger says it has (everything when
	 * the ledger cannot tell), latest date first. */
	all = walk_all(ledger, ifv, nif);
	for (i = 0; i < n && e == GFSB_OK; i++) {
		const struct gfsb_snapshot *s = snaps[ord[i].i];

		if (ord[i].until <= 0)
			break;
		if (!all && ops_ledger_get(ledger, GFSB_OBJ_SNAPSHOT, s->id) >=
		    ord[i].until)
			continue;
		res->walked++;
		e = walk_snapshot(r, io, p, &seen, s, ord[i].until,
		    &res->trees);
	}
	if (e == GFSB_OK)
		e = plan_index(p, ifv, nif);
out:
	gfsb_repo_io_free(io);
	idmap_fini(&seen);
	gfsb_repo_snapshot_list_free(snaps, n);
	ifacts_free(ifv, nif);
	free(until);
	free(dec);
	free(ord);
	if (e == GFSB_OK)
		*out = p;
	else
		ops_lock_plan_free(p);
	return e;
}

/* ---- extending ---- */

/* One object to look at. */
struct job {
	enum gfsb_obj type;
	const char *name;
	int64_t need;
};

struct pass {
	struct gfsb_backend *be;
	struct gfsb_ctx *ctx;
	enum gfsb_lock_mode mode;
	struct ops_ledger *ledger;
	int64_t slack;
	struct job *jobs;
	size_t n, next;
	pthread_mutex_t mu;
	struct gfsb_lock_result *res;
	gfsb_err err;
};

gfsb_err
ops_lock_known(struct gfsb_backend *be, struct ops_ledger *ledger,
    enum gfsb_obj type, const char *name, int64_t *until, uint64_t *requests)
{
	struct gfsb_retention ret;
	gfsb_err e;

	if ((*until = ops_ledger_get(ledger, type, name)) > 0)
		return GFSB_OK;
	(*requests)++;
	if ((e = gfsb_backend_retention_get(be, type, name, &ret)) != GFSB_OK)
		return e;
	*until = ret.mode != GFSB_LOCK_NONE ? ret.until : 0;
	/* An object with no lock at all is recorded as locked until the
	 * epoch's first second, so that it is not asked about again. */
	return ops_ledger_set(ledger, type, name, *until > 0 ? *until : 1);
}

/* One object: extend its lock if it falls short of its need. */
static gfsb_err
extend_one(struct pass *ps, const struct job *j, uint64_t *requests,
    int *extended)
{
	struct gfsb_retention ret;
	int64_t have;
	gfsb_err e;

	*extended = 0;
	if ((e = ops_lock_known(ps->be, ps->ledger, j->type, j->name, &have,
	    requests)) != GFSB_OK)
		return e;
	if (have >= j->need)
		return GFSB_OK;
	ret.mode = ps->mode;
	ret.until = j->need + ps->slack;
	(*requests)++;
	if ((e = gfsb_backend_retention_set(ps->be, j->type, j->name, &ret)) !=
	    GFSB_OK) {
		/* Gone meanwhile (a prune elsewhere): nothing to keep. */
		if (e == GFSB_ENOTFOUND) {
			gfsb_ctx_clearerr(ps->ctx);
			return GFSB_OK;
		}
		/* Refused: the ledger may have understated a lock that is
		 * already longer (a date can never be shortened).  Ask. */
		if (e == GFSB_EDENIED) {
			struct gfsb_retention cur;

			(*requests)++;
			if (gfsb_backend_retention_get(ps->be, j->type,
			    j->name, &cur) == GFSB_OK && cur.mode !=
			    GFSB_LOCK_NONE && cur.until >= j->need) {
				gfsb_ctx_clearerr(ps->ctx);
				return ops_ledger_set(ps->ledger, j->type,
				    j->name, cur.until);
			}
		}
		return e;
	}
	*extended = 1;
	return ops_ledger_set(ps->ledger, j->type, j->name, ret.until);
}

static void *
pass_worker(void *arg)
{
	struct pass *ps = arg;
	uint64_t requests;
	int extended;
	size_t k;
	gfsb_err e;

	for (;;) {
		pthread_mutex_lock(&ps->mu);
		if (ps->next >= ps->n || ps->err != GFSB_OK ||
		    gfsb_ctx_canceled(ps->ctx)) {
			pthread_mutex_unlock(&ps->mu);
			break;
		}
		k = ps->next++;
		pthread_mutex_unlock(&ps->mu);
		requests = 0;
		e = extend_one(ps, &ps->jobs[k], &requests, &extended);
		pthread_mutex_lock(&ps->mu);
		ps->res->requests += requests;
		ps->res->checked += requests > (uint64_t)extended;
		ps->res->extended += (uint64_t)extended;
		if (e != GFSB_OK && ps->err == GFSB_OK)
			ps->err = e;
		pthread_mutex_unlock(&ps->mu);
	}
	return NULL;
}

gfsb_err
ops_lock_apply(struct gfsb_backend *be, enum gfsb_lock_mode mode,
    const struct ops_lock_plan *p, struct ops_ledger *ledger,
    const struct gfsb_objlist *const *lists, const enum gfsb_obj *types,
    size_t nlists, unsigned threads, struct gfsb_lock_result *res)
{
	struct pass ps;
	size_t i, k, total = 1;
	int64_t need;
	double t0 = gfsb_monotonic_seconds();

	memset(&ps, 0, sizeof(ps));
	if (mode == GFSB_LOCK_NONE)
		return GFSB_OK;
	ps.be = be;
	ps.ctx = gfsb_backend_ctx(be);
	ps.mode = mode;
	ps.ledger = ledger;
	ps.slack = p->slack;
	ps.res = res;
	for (i = 0; i < nlists; i++)
		total += lists[i]->n;
	if ((ps.jobs = calloc(total, sizeof(*ps.jobs))) == NULL)
		return GFSB_ENOMEM;
	/* The config, then every listed object that needs a date. */
	ps.jobs[ps.n].type = GFSB_OBJ_CONFIG;
	ps.jobs[ps.n].name = "config";
	ps.jobs[ps.n++].need = p->longest;
	for (i = 0; i < nlists; i++)
		for (k = 0; k < lists[i]->n; k++) {
			need = ops_lock_need(p, types[i], lists[i]->v[k].name);
			if (need <= 0)
				continue;
			ps.jobs[ps.n].type = types[i];
			ps.jobs[ps.n].name = lists[i]->v[k].name;
			ps.jobs[ps.n++].need = need;
		}
	pthread_mutex_init(&ps.mu, NULL);
	ops_run_workers(pass_worker, &ps, threads, ps.n);
	pthread_mutex_destroy(&ps.mu);
	free(ps.jobs);
	res->seconds += gfsb_monotonic_seconds() - t0;
	return ps.err;
}

/* Remember the snapshots' dates as applied: the next night walks only
 * those whose date grew. */
gfsb_err
ops_lock_remember(const struct ops_lock_plan *p, struct ops_ledger *ledger,
    const struct gfsb_objlist *snaps)
{
	size_t k;
	int64_t need;
	gfsb_err e = GFSB_OK;

	for (k = 0; k < snaps->n && e == GFSB_OK; k++) {
		need = ops_lock_need(p, GFSB_OBJ_SNAPSHOT, snaps->v[k].name);
		if (need > ops_ledger_get(ledger, GFSB_OBJ_SNAPSHOT,
		    snaps->v[k].name) && need > 0)
			e = ops_ledger_set(ledger, GFSB_OBJ_SNAPSHOT,
			    snaps->v[k].name, need);
	}
	return e;
}

/* ---- the repository's own locks ---- */

gfsb_err
gfsb_ops_lock_extend(struct gfsb_repo *r, const struct gfsb_lock_opts *lo,
    struct gfsb_lock_result *res)
{
	static const enum gfsb_obj types[] = { GFSB_OBJ_KEY, GFSB_OBJ_PACK,
		GFSB_OBJ_INDEX, GFSB_OBJ_SNAPSHOT };
	struct gfsb_objlist l[4];
	const struct gfsb_objlist *lp[4];
	struct ops_lock_plan *p = NULL;
	struct ops_ledger *ledger = NULL;
	double t0 = gfsb_monotonic_seconds();
	size_t i;
	gfsb_err e;

	memset(res, 0, sizeof(*res));
	memset(l, 0, sizeof(l));
	if (gfsb_repo_lock_mode(r) == GFSB_LOCK_NONE)
		return GFSB_OK;
	if ((e = ops_ledger_open(lo->ledger, &ledger)) != GFSB_OK ||
	    (e = ops_lock_plan_make(r, lo, ledger, &p, res)) != GFSB_OK)
		goto out;
	for (i = 0; i < 4; i++) {
		if ((e = gfsb_backend_list_all(gfsb_repo_backend(r), types[i],
		    &l[i])) != GFSB_OK)
			goto out;
		ops_ledger_prune(ledger, types[i], &l[i]);
		lp[i] = &l[i];
	}
	if ((e = ops_lock_apply(gfsb_repo_backend(r), gfsb_repo_lock_mode(r),
	    p, ledger, lp, types, 4, lo->threads, res)) != GFSB_OK ||
	    (e = ops_lock_remember(p, ledger, &l[3])) != GFSB_OK)
		goto out;
out:
	/* What was learnt is kept even when the pass stopped half way. */
	if (ledger != NULL && ops_ledger_save(ledger) != GFSB_OK)
		gfsb_ctx_log(gfsb_repo_ctx(r), GFSB_LOG_WARN, "cannot write the "
		    "lock ledger %s: %s (the dates are read from storage next "
		    "time)", lo->ledger, strerror(errno));
	for (i = 0; i < 4; i++)
		gfsb_objlist_fini(&l[i]);
	ops_lock_plan_free(p);
	ops_ledger_free(ledger);
	res->seconds = gfsb_monotonic_seconds() - t0;
	return e;
}

/* ---- checking the dates (verify) ---- */

/* How long a promotion may wait for the nightly job before a date that
 * falls short is a finding: a day and a bit. */
#define CHECK_GRACE (26 * 3600)

struct check {
	struct gfsb_backend *be;
	struct ops_lock_plan *p;
	int64_t clock;
	gfsb_err (*finding)(void *cookie, const char *fmt, ...);
	void *cookie;
	uint64_t checked, short_;
};

static gfsb_err
check_one(struct check *c, enum gfsb_obj type, const char *name)
{
	struct gfsb_retention ret;
	struct gfsb_time t;
	char have[64], need[64];
	int64_t n = ops_lock_need(c->p, type, name);
	gfsb_err e;

	if (n <= 0)
		return GFSB_OK;
	c->checked++;
	if ((e = gfsb_backend_retention_get(c->be, type, name, &ret)) !=
	    GFSB_OK)
		return e == GFSB_ENOTFOUND ? GFSB_OK : e;
	if (ret.mode != GFSB_LOCK_NONE && ret.until >= n)
		return GFSB_OK;
	c->short_++;
	t.nsec = 0;
	t.sec = n;
	gfsb_time_format_local(&t, need, sizeof(need));
	if (ret.mode == GFSB_LOCK_NONE) {
		return c->finding(c->cookie, "%s %.16s has no Object Lock; "
		    "the policy needs it locked until %s",
		    gfsb_backend_type_name(type), name, need);
	}
	t.sec = ret.until;
	gfsb_time_format_local(&t, have, sizeof(have));
	return c->finding(c->cookie, "%s %.16s is locked until %s; the "
	    "policy needs %s%s", gfsb_backend_type_name(type), name, have,
	    need, ret.until <= c->clock ? " (its lock has passed: it can be "
	    "deleted now)" : "");
}

gfsb_err
ops_lock_verify(struct gfsb_repo *r, const struct gfsb_lock_opts *lo,
    const char (*packs)[GFSB_ID_HEX], size_t npacks,
    gfsb_err (*finding)(void *cookie, const char *fmt, ...), void *cookie,
    uint64_t *checked, uint64_t *short_)
{
	static const enum gfsb_obj types[] = { GFSB_OBJ_KEY, GFSB_OBJ_INDEX,
		GFSB_OBJ_SNAPSHOT };
	struct gfsb_lock_opts o = *lo;
	struct gfsb_lock_result lr;
	struct gfsb_objlist l;
	struct check c;
	size_t i, k;
	gfsb_err e;

	memset(&c, 0, sizeof(c));
	memset(&lr, 0, sizeof(lr));
	/* The dates the nightly job must have set by its last run. */
	o.now.sec -= CHECK_GRACE;
	o.ledger = NULL;
	if ((e = ops_lock_plan_make(r, &o, NULL, &c.p, &lr)) != GFSB_OK)
		return e;
	c.be = gfsb_repo_backend(r);
	c.clock = gfsb_backend_clock(c.be);
	c.finding = finding;
	c.cookie = cookie;
	e = check_one(&c, GFSB_OBJ_CONFIG, "config");
	for (i = 0; i < 3 && e == GFSB_OK; i++) {
		if ((e = gfsb_backend_list_all(c.be, types[i], &l)) != GFSB_OK)
			break;
		for (k = 0; k < l.n && e == GFSB_OK; k++)
			e = check_one(&c, types[i], l.v[k].name);
		gfsb_objlist_fini(&l);
	}
	for (k = 0; k < npacks && e == GFSB_OK; k++)
		e = check_one(&c, GFSB_OBJ_PACK, packs[k]);
	ops_lock_plan_free(c.p);
	*checked = c.checked;
	*short_ = c.short_;
	return e;
}
