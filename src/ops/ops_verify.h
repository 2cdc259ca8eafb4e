/*
 * verify's private parts, shared by its phases: ops_verify.c (subsets and
 * days, the helpers, the whole), ops_verify_struct.c (phases 1 and 2: keys,
 * locks, the pack listing, snapshots and trees), ops_verify_read.c (phase
 * 3: reading packs), ops_verify_damage.c (phase 4: what the damage
 * breaks) and ops_verify_state.c (the state file, Object Lock dates).
 */
#ifndef GFSB_OPS_VERIFY_H
#define GFSB_OPS_VERIFY_H

#include <stdint.h>

#include <gfsbackup/ops.h>

#include "ops_internal.h"

#define STATE_VERSION 1
#define STATE_NIGHTS 120	/* nights of history kept */
#define MAX_SUBSET_SLICES 100000
#define MAX_ORPHANS_LISTED 20

/* A set of ids, with a small value each. */
struct idslot {
	uint8_t id[GFSB_ID_LEN];
	uint8_t used;
	uint8_t type;
	uint8_t state;		/* memo: 1 clean, 2 damaged */
	char why[80];		/* damaged blobs: why */
};

struct idset {
	struct idslot *v;
	size_t n, cap; /* cap: power of two or 0 */
};

struct idslot *vf_idset_find(const struct idset *s, const uint8_t *id);
/* Find or add id; *slot is the entry (new ones zeroed but for id). */
gfsb_err vf_idset_add(struct idset *s, const uint8_t *id,
    struct idslot **slot);
void vf_idset_fini(struct idset *s);

struct verify {
	struct gfsb_repo *r;
	struct gfsb_ctx *ctx;
	const struct gfsb_verify_opts *o;
	struct gfsb_verify_result *res;
	struct gfsb_repo_io *io;
	struct gfsb_snapshot **snaps;
	size_t nsnaps;
	struct gfsb_pack_blobs *packs;	/* the index, by pack */
	size_t npacks;
	struct gfsb_objlist stored;	/* the pack listing */
	struct gfsb_objlist snapnames;	/* the snapshot listing */
	struct gfsb_key_info *keys;	/* the key files */
	size_t nkeys;
	uint8_t *read_it;		/* per pack: read in phase 3 */
	uint8_t *read_ok;		/* per pack: read and clean */
	struct idset bad;		/* damaged or missing blobs */
	struct idset memo;		/* phase 4: trees known clean/damaged */
	struct gfsb_time start;
	gfsb_err oom;			/* ENOMEM in a callback */
};

/* The helpers (ops_verify.c). */
double vf_since(const struct gfsb_time *t0);
void vf_progress(struct verify *v, const char *phase, uint64_t done,
    uint64_t total, uint64_t bytes);
gfsb_err vf_add_damage(struct verify *v, const char *kind, const char *id,
    const char *fmt, ...) GFSB_PRINTF(4, 5);
gfsb_err vf_add_warning(struct verify *v, const char *fmt, ...)
    GFSB_PRINTF(2, 3);
/* The listing entry of pack i, or NULL if it is not stored. */
const struct gfsb_objent *vf_stored_pack(const struct verify *v, size_t i);
/* Record a damaged blob (the first reason found is kept). */
gfsb_err vf_mark_bad(struct verify *v, const uint8_t *id, uint8_t type,
    const char *why);
void vf_day_format(int64_t day, char *buf, size_t len);
int vf_day_parse(const char *s, int64_t *day);

/* Phases 1 and 2 (ops_verify_struct.c). */
void vf_index_bad(void *cookie, const char *name, gfsb_err e,
    const char *detail);
gfsb_err vf_check_keys(struct verify *v);
gfsb_err vf_check_locks(struct verify *v);
gfsb_err vf_check_packs(struct verify *v);
gfsb_err vf_list_snapshots(struct verify *v);
gfsb_err vf_check_snapshots(struct verify *v);
gfsb_err vf_check_trees(struct verify *v);

/* Phase 3 (ops_verify_read.c). */
gfsb_err vf_select_packs(struct verify *v);
gfsb_err vf_read_packs(struct verify *v);

/* Phase 4 (ops_verify_damage.c). */
gfsb_err vf_broken_add(struct gfsb_verify_result *res,
    const struct gfsb_verify_opts *o, const char *snap, const char *path,
    const char *why);
gfsb_err vf_map_damage(struct verify *v);

/* The state file and Object Lock dates (ops_verify_state.c). */
gfsb_err vf_state_update(struct verify *v);
gfsb_err vf_check_locks_dates(struct verify *v);

#endif
