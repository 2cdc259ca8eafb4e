/*
 * verify, phases 1 and 2: the key files, the locks, the index against the
 * pack listing (missing packs, wrong sizes, orphans, duplicates), then the
 * snapshots and every tree they reach (each distinct tree once); every
 * data blob a file uses must be indexed.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <gfsbackup/ops.h>

#include "ops_internal.h"

#include "ops_verify.h"

static int
pack_blobs_cmp(const void *a, const void *b)
{
	const struct gfsb_pack_blobs *x = a, *y = b;

	return memcmp(x->id, y->id, GFSB_ID_LEN);
}

void
vf_index_bad(void *cookie, const char *name, gfsb_err e, const char *detail)
{
	struct verify *v = cookie;
	gfsb_err e2;

	e2 = vf_add_damage(v, "index", name, "%s",
	    detail != NULL && *detail != '\0' ? detail : gfsb_strerror(e));
	if (e2 != GFSB_OK)
		v->oom = e2;
}

gfsb_err
vf_check_keys(struct verify *v)
{
	struct gfsb_key_info *keys = NULL;
	size_t n = 0, i;
	gfsb_err e;

	if ((e = gfsb_repo_key_list(v->r, &keys, &n)) != GFSB_OK)
		return e;
	v->res->keys = n;
	v->keys = keys;
	v->nkeys = n;
	for (i = 0; i < n && e == GFSB_OK; i++)
		if (keys[i].damaged)
			e = vf_add_damage(v, "key", keys[i].id, "key file "
			    "%.16s does not match its name or does not parse",
			    keys[i].id);
	return e;
}

gfsb_err
vf_check_locks(struct verify *v)
{
	gfsb_err e;

	/* A view of the past shows the locks of processes long gone, which
	 * `unlock` could not remove anyway. */
	if (gfsb_backend_as_of(gfsb_repo_backend(v->r)) != 0)
		return GFSB_OK;
	if ((e = gfsb_repo_lock_count(v->r, &v->res->locks_live,
	    &v->res->locks_stale)) != GFSB_OK)
		return e;
	if (v->res->locks_stale > 0)
		return vf_add_warning(v, "%zu stale or unreadable lock%s (left "
		    "by a process that died; remove with `gfsbackup unlock`)",
		    v->res->locks_stale, v->res->locks_stale == 1 ? "" : "s");
	return GFSB_OK;
}

/* Is blob j of pb the copy the index finds?  A marked pack's blobs may
 * have been copied elsewhere (a repack) before it was deleted. */
static int
copy_here(struct verify *v, const struct gfsb_pack_blobs *pb, size_t j)
{
	struct gfsb_blob_loc loc;

	if (pb->doomed_at == 0)
		return 1;
	return gfsb_repo_index_lookup(v->r, pb->locs[j].type, pb->ids[j],
	    &loc) == GFSB_OK && memcmp(loc.pack, pb->id, GFSB_ID_LEN) == 0;
}

/* Compare the pack listing with the index. */
gfsb_err
vf_check_packs(struct verify *v)
{
	struct gfsb_verify_result *res = v->res;
	const struct gfsb_objent *st;
	struct gfsb_pack_blobs *pb;
	char hex[GFSB_ID_HEX], why[128];
	size_t i, j;
	gfsb_err e;

	if ((e = gfsb_backend_list_all(gfsb_repo_backend(v->r), GFSB_OBJ_PACK,
	    &v->stored)) != GFSB_OK)
		return e;
	if ((e = gfsb_repo_index_packs(v->r, &v->packs, &v->npacks)) !=
	    GFSB_OK)
		return e;
	if (v->npacks > 0 &&
	    ((v->read_it = calloc(v->npacks, 1)) == NULL ||
	    (v->read_ok = calloc(v->npacks, 1)) == NULL))
		return GFSB_ENOMEM;
	res->packs = v->npacks;
	for (i = 0; i < v->stored.n; i++)
		res->repo_bytes += v->stored.v[i].size;
	for (i = 0; i < v->npacks; i++) {
		pb = &v->packs[i];
		gfsb_hex_encode(pb->id, GFSB_ID_LEN, hex);
		res->pack_bytes += pb->size;
		st = vf_stored_pack(v, i);
		if (st == NULL) {
			/* A pack marked for deletion and deleted: damage only
			 * to a snapshot that needs one of its blobs. */
			res->packs -= pb->doomed_at != 0;
			if (pb->doomed_at == 0 && (e = vf_add_damage(v, "pack",
			    hex, "pack %.16s is missing from storage (%zu "
			    "blobs lost)", hex, pb->n)) != GFSB_OK)
				return e;
			snprintf(why, sizeof(why), pb->doomed_at == 0 ?
			    "its pack %.16s is missing" : "its pack %.16s was "
			    "deleted by a prune", hex);
			if ((e = gfsb_repo_pack_blobs_load(v->r, pb)) !=
			    GFSB_OK)
				return e;
			for (j = 0; j < pb->n && e == GFSB_OK; j++)
				if (copy_here(v, pb, j))
					e = vf_mark_bad(v, pb->ids[j],
					    pb->locs[j].type, why);
			gfsb_repo_pack_blobs_unload(pb);
			if (e != GFSB_OK)
				return e;
			continue;
		}
		if (st->size != pb->size) {
			/* Read it whatever the subset: only reading says
			 * which of its blobs are lost. */
			v->read_it[i] = 1;
			if ((e = vf_add_damage(v, "pack", hex, "pack %.16s has "
			    "%llu bytes; its index entries need %llu", hex,
			    (unsigned long long)st->size,
			    (unsigned long long)pb->size)) != GFSB_OK)
				return e;
		}
	}
	/* Packs no index names: left by an interrupted backup or prune. */
	for (i = 0, j = 0; i < v->stored.n; i++) {
		struct gfsb_pack_blobs key;

		memcpy(key.id, v->stored.v[i].id, GFSB_ID_LEN);
		if (v->npacks > 0 && bsearch(&key, v->packs, v->npacks,
		    sizeof(*v->packs), pack_blobs_cmp) != NULL)
			continue;
		res->orphaned++;
		if (j++ < MAX_ORPHANS_LISTED &&
		    (e = vf_add_warning(v, "pack %.16s is in no index (left by "
		    "an interrupted run; the next backup reuses it, prune "
		    "removes it)", v->stored.v[i].name)) != GFSB_OK)
			return e;
	}
	if (j > MAX_ORPHANS_LISTED &&
	    (e = vf_add_warning(v, "... and %zu more packs in no index",
	    j - MAX_ORPHANS_LISTED)) != GFSB_OK)
		return e;
	res->duplicates = gfsb_repo_index_duplicates(v->r);
	if (res->duplicates > 0 &&
	    (e = vf_add_warning(v, "%llu blobs are stored twice (harmless; "
	    "prune removes the copies)",
	    (unsigned long long)res->duplicates)) != GFSB_OK)
		return e;
	return GFSB_OK;
}

/* Load every snapshot; a damaged one is named and skipped. */
gfsb_err
vf_list_snapshots(struct verify *v)
{
	return gfsb_backend_list_all(gfsb_repo_backend(v->r),
	    GFSB_OBJ_SNAPSHOT, &v->snapnames);
}

gfsb_err
vf_check_snapshots(struct verify *v)
{
	const struct gfsb_objlist names = v->snapnames;
	struct gfsb_snapshot *s;
	size_t i;
	gfsb_err e;

	if (names.n > 0 &&
	    (v->snaps = calloc(names.n, sizeof(*v->snaps))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < names.n; i++) {
		v->res->repo_bytes += names.v[i].size;
		e = gfsb_repo_snapshot_load(v->r, names.v[i].name, &s);
		if (e == GFSB_OK) {
			v->snaps[v->nsnaps++] = s;
			continue;
		}
		if (!gfsb_err_is_damage(e))
			return e;
		e = vf_add_damage(v, "snapshot", names.v[i].name, "%s",
		    gfsb_ctx_errmsg(v->ctx));
		gfsb_ctx_clearerr(v->ctx);
		if (e != GFSB_OK)
			return e;
		e = vf_broken_add(v->res, v->o, names.v[i].name, "/",
		    "the snapshot itself is damaged");
		if (e != GFSB_OK)
			return e;
	}
	v->res->snapshots = v->nsnaps;
	return GFSB_OK;
}

/* Walk every tree once; check that every blob used is indexed. */
gfsb_err
vf_check_trees(struct verify *v)
{
	uint8_t (*stack)[GFSB_ID_LEN] = NULL, (*ns)[GFSB_ID_LEN];
	size_t nstack = 0, capstack = 0, i, j, k;
	struct gfsb_tree t;
	const struct gfsb_node *nd;
	char hex[GFSB_ID_HEX], why[96];
	gfsb_err e = GFSB_OK;

	gfsb_repo_tree_init(&t);
	for (i = 0; i < v->nsnaps && e == GFSB_OK; i++) {
		if (nstack == capstack) {
			capstack = capstack ? capstack * 2 : 64;
			if ((ns = realloc(stack, capstack *
			    sizeof(*stack))) == NULL) {
				e = GFSB_ENOMEM;
				break;
			}
			stack = ns;
		}
		memcpy(stack[nstack++], v->snaps[i]->tree, GFSB_ID_LEN);
		while (nstack > 0 && e == GFSB_OK) {
			uint8_t id[GFSB_ID_LEN];

			memcpy(id, stack[--nstack], GFSB_ID_LEN);
			e = gfsb_repo_index_mark(v->r, GFSB_BLOB_TREE, id);
			if (e == GFSB_EEXIST) {
				e = GFSB_OK;
				continue;
			}
			if (e == GFSB_ENOTFOUND) {
				e = vf_mark_bad(v, id, GFSB_BLOB_TREE,
				    "tree is not in the index");
				continue;
			}
			if (e != GFSB_OK)
				break;
			v->res->trees++;
			if (gfsb_ctx_canceled(v->ctx)) {
				e = GFSB_ECANCELED;
				break;
			}
			gfsb_repo_tree_fini(&t);
			e = gfsb_repo_tree_load(v->io, id, &t);
			if (gfsb_err_is_damage(e)) {
				snprintf(why, sizeof(why), "tree does not "
				    "open: %.60s", gfsb_ctx_errmsg(v->ctx));
				gfsb_ctx_clearerr(v->ctx);
				gfsb_hex_encode(id, GFSB_ID_LEN, hex);
				if ((e = vf_add_damage(v, "blob", hex, "tree "
				    "%.16s does not open (%s)", hex,
				    gfsb_strerror(e))) == GFSB_OK)
					e = vf_mark_bad(v, id, GFSB_BLOB_TREE,
					    why);
				continue;
			}
			if (e != GFSB_OK)
				break;
			for (j = 0; j < t.n && e == GFSB_OK; j++) {
				nd = &t.nodes[j];
				if (nd->kind == GFSB_NODE_DIR) {
					if (nstack == capstack) {
						capstack *= 2;
						if ((ns = realloc(stack,
						    capstack *
						    sizeof(*stack))) == NULL) {
							e = GFSB_ENOMEM;
							break;
						}
						stack = ns;
					}
					memcpy(stack[nstack++], nd->subtree,
					    GFSB_ID_LEN);
					continue;
				}
				for (k = 0; k < nd->nextents && e == GFSB_OK;
				    k++) {
					if (nd->extents[k].hole)
						continue;
					e = gfsb_repo_index_mark(v->r,
					    GFSB_BLOB_DATA, nd->extents[k].id);
					if (e == GFSB_OK)
						v->res->data_blobs++;
					if (e == GFSB_EEXIST)
						e = GFSB_OK;
					else if (e == GFSB_ENOTFOUND)
						e = vf_mark_bad(v,
						    nd->extents[k].id,
						    GFSB_BLOB_DATA,
						    "not in the index");
				}
			}
		}
		vf_progress(v, "trees", i + 1, v->nsnaps, 0);
	}
	gfsb_repo_tree_fini(&t);
	free(stack);
	return e;
}

