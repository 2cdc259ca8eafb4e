/*
 * verify, phase 3: the packs selected for reading (all, a slice, today's
 * slice, a share at random), read whole from storage by a few threads:
 * SHA-256 against the name, header against the index, every blob
 * authenticated, decompressed and its id recomputed.
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

struct reader {
	struct verify *v;
	pthread_mutex_t mu;
	size_t next;		/* next pack to consider */
	uint64_t done, total, bytes;
	gfsb_err err;
	char errmsg[1024];
};

static gfsb_err
pack_result(struct verify *v, size_t i, const struct gfsb_pack_check *pc,
    uint64_t len)
{
	const struct gfsb_pack_blobs *pb = &v->packs[i];
	char hex[GFSB_ID_HEX], bhex[GFSB_ID_HEX], why[96];
	size_t j, k;
	gfsb_err e = GFSB_OK;

	gfsb_hex_encode(pb->id, GFSB_ID_LEN, hex);
	v->res->blobs_read += pb->n;
	if (!pc->name_ok && (e = vf_add_damage(v, "pack", hex, "pack %.16s: "
	    "its content does not match its name (SHA-256 of %llu bytes)",
	    hex, (unsigned long long)len)) != GFSB_OK)
		return e;
	if (!pc->header_ok && (e = vf_add_damage(v, "pack", hex, "pack %.16s: "
	    "%s", hex, pc->header_why)) != GFSB_OK)
		return e;
	for (k = 0; k < pc->nbad; k++) {
		j = pc->bad[k];
		gfsb_hex_encode(pb->ids[j], GFSB_ID_LEN, bhex);
		if ((e = vf_add_damage(v, "blob", bhex, "%s blob %.16s in pack "
		    "%.16s at offset %u (%u bytes) fails authentication or "
		    "its id check", pb->locs[j].type == GFSB_BLOB_TREE ?
		    "tree" : "data", bhex, hex, pb->locs[j].offset,
		    pb->locs[j].length)) != GFSB_OK)
			return e;
		snprintf(why, sizeof(why), "blob %.16s in pack %.16s is "
		    "damaged", bhex, hex);
		if ((e = vf_mark_bad(v, pb->ids[j], pb->locs[j].type, why)) !=
		    GFSB_OK)
			return e;
	}
	v->read_ok[i] = pc->name_ok && pc->header_ok && pc->nbad == 0;
	return GFSB_OK;
}

static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	struct verify *v = rd->v;
	struct gfsb_backend *be = gfsb_repo_backend(v->r);
	struct gfsb_repo_io *io = NULL;
	struct gfsb_pack_check pc;
	const struct gfsb_objent *st;
	struct gfsb_buf buf;
	gfsb_err e;
	size_t i;

	gfsb_buf_init(&buf);
	if ((e = gfsb_repo_io_new(v->r, &io)) != GFSB_OK) {
		pthread_mutex_lock(&rd->mu);
		if (rd->err == GFSB_OK)
			rd->err = e;
		pthread_mutex_unlock(&rd->mu);
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&rd->mu);
		while (rd->next < v->npacks && !v->read_it[rd->next])
			rd->next++;
		if (rd->err != GFSB_OK || rd->next >= v->npacks) {
			pthread_mutex_unlock(&rd->mu);
			break;
		}
		i = rd->next++;
		pthread_mutex_unlock(&rd->mu);
		st = vf_stored_pack(v, i);
		buf.len = 0;
		e = GFSB_OK;
		if (gfsb_ctx_canceled(v->ctx))
			e = GFSB_ECANCELED;
		else if (st->size > (uint64_t)GFSB_PACK_SIZE_MAX * 2)
			e = GFSB_OK; /* absurd: checked as if empty */
		else if ((e = gfsb_buf_reserve(&buf, st->size)) == GFSB_OK)
			e = gfsb_backend_read(be, GFSB_OBJ_PACK, st->name, 0,
			    buf.data, st->size);
		if (e == GFSB_OK &&
		    st->size <= (uint64_t)GFSB_PACK_SIZE_MAX * 2)
			buf.len = st->size;
		if (e == GFSB_ENOTFOUND || e == GFSB_ECORRUPT) {
			/* Deleted or truncated since the listing. */
			gfsb_ctx_clearerr(v->ctx);
			buf.len = 0;
			e = GFSB_OK;
		}
		/* The pack's blobs from the index, while it is checked. */
		if (e == GFSB_OK && (e = gfsb_repo_pack_blobs_load(v->r,
		    &v->packs[i])) == GFSB_OK)
			e = gfsb_repo_pack_check(io, &v->packs[i], buf.data,
			    buf.len, &pc);
		pthread_mutex_lock(&rd->mu);
		if (e == GFSB_OK) {
			e = pack_result(v, i, &pc, buf.len);
			free(pc.bad);
			rd->done++;
			rd->bytes += buf.len;
			v->res->packs_read++;
			v->res->bytes_read += buf.len;
		}
		if (e != GFSB_OK && rd->err == GFSB_OK) {
			/* Not read, so not checked: no verdict on the pack,
			 * and none on the repository.  The storage's detail
			 * names the object (another reader's, maybe). */
			const char *why = gfsb_ctx_errmsg(v->ctx);

			rd->err = e;
			if (*why != '\0')
				snprintf(rd->errmsg, sizeof(rd->errmsg), "not "
				    "every pack could be checked: %s", why);
			else
				snprintf(rd->errmsg, sizeof(rd->errmsg), "pack "
				    "%s could not be checked: %s", st->name,
				    gfsb_strerror(e));
		}
		vf_progress(v, "read", rd->done, rd->total, rd->bytes);
		pthread_mutex_unlock(&rd->mu);
		gfsb_repo_pack_blobs_unload(&v->packs[i]);
	}
	gfsb_buf_fini(&buf);
	gfsb_repo_io_free(io);
	return NULL;
}

/* Choose the packs to read (on top of those phase 1 chose). */
gfsb_err
vf_select_packs(struct verify *v)
{
	const struct gfsb_verify_opts *o = v->o;
	size_t *cand = NULL, ncand = 0, want, i, j, t;
	uint32_t today = 0;
	double share;

	switch (o->read) {
	case GFSB_VERIFY_READ_NONE:
		snprintf(v->res->mode, sizeof(v->res->mode), "structure only");
		break;
	case GFSB_VERIFY_READ_ALL:
		snprintf(v->res->mode, sizeof(v->res->mode), "all packs");
		break;
	case GFSB_VERIFY_READ_SLICE:
		today = o->slice - 1;
		snprintf(v->res->mode, sizeof(v->res->mode), "slice %u of %u",
		    o->slice, o->slices);
		break;
	case GFSB_VERIFY_READ_ROTATE:
		today = (uint32_t)(((gfsb_ops_verify_day(&o->now) %
		    o->slices) + o->slices) % o->slices);
		snprintf(v->res->mode, sizeof(v->res->mode), "rotate/%u: "
		    "today's slice is %u of %u", o->slices, today + 1,
		    o->slices);
		break;
	case GFSB_VERIFY_READ_PERCENT:
		snprintf(v->res->mode, sizeof(v->res->mode), "%g%% at random",
		    o->percent);
		break;
	}
	for (i = 0; i < v->npacks; i++) {
		if (vf_stored_pack(v, i) == NULL) {
			v->read_it[i] = 0; /* missing: nothing to read */
			continue;
		}
		switch (o->read) {
		case GFSB_VERIFY_READ_NONE:
		case GFSB_VERIFY_READ_PERCENT:
			break;
		case GFSB_VERIFY_READ_ALL:
			v->read_it[i] = 1;
			break;
		case GFSB_VERIFY_READ_SLICE:
		case GFSB_VERIFY_READ_ROTATE:
			if (gfsb_ops_verify_slice_of(v->packs[i].id,
			    o->slices) == today)
				v->read_it[i] = 1;
			break;
		}
	}
	if (o->read != GFSB_VERIFY_READ_PERCENT || v->npacks == 0)
		return GFSB_OK;
	/* A random share: a partial Fisher-Yates shuffle of the rest. */
	if ((cand = malloc(v->npacks * sizeof(*cand))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < v->npacks; i++)
		if (!v->read_it[i] &&
		    vf_stored_pack(v, i) != NULL)
			cand[ncand++] = i;
	share = o->percent / 100.0 * (double)v->npacks;
	want = (size_t)share;
	if ((double)want < share)
		want++; /* rounded up: 5% of 3 packs reads one */
	if (want > ncand)
		want = ncand;
	for (i = 0; i < want; i++) {
		j = i + randombytes_uniform((uint32_t)(ncand - i));
		t = cand[i];
		cand[i] = cand[j];
		cand[j] = t;
		v->read_it[cand[i]] = 1;
	}
	free(cand);
	return GFSB_OK;
}

gfsb_err
vf_read_packs(struct verify *v)
{
	struct reader rd;
	pthread_t th[16];
	unsigned n = v->o->threads ? v->o->threads : 2, i, started = 0;
	size_t k;

	if (n > 16)
		n = 16;
	memset(&rd, 0, sizeof(rd));
	rd.v = v;
	pthread_mutex_init(&rd.mu, NULL);
	for (k = 0; k < v->npacks; k++)
		rd.total += v->read_it[k];
	for (i = 0; i < n; i++) {
		if (pthread_create(&th[i], NULL, reader_main, &rd) != 0)
			break;
		started++;
	}
	if (started == 0)
		reader_main(&rd);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&rd.mu);
	if (rd.err != GFSB_OK && rd.err != GFSB_ENOMEM &&
	    rd.err != GFSB_ECANCELED) {
		gfsb_ctx_clearerr(v->ctx); /* the storage's, in errmsg */
		return gfsb_ctx_seterr(v->ctx, rd.err, "%s", rd.errmsg);
	}
	gfsb_ctx_clearerr(v->ctx); /* blob checks leave their detail */
	return rd.err;
}

