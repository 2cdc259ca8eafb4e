/*
 * verify's memory across nights: the state file (when each pack was last
 * read, the nightly sizes and findings) and the Object Lock dates of a
 * locked repository checked against what the policy needs.
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
nightcmp(const void *a, const void *b)
{
	const struct gfsb_verify_night *x = a, *y = b;

	return x->day < y->day ? -1 : x->day > y->day;
}

/*
 * The state as the last verification left it, or NULL (none yet, or one
 * that cannot be used: unreadable, not a state file, another
 * repository's; each a warning, and coverage and history start over).
 */
static gfsb_err
state_read(struct verify *v, const char *path, json_t **out)
{
	json_error_t jerr;
	json_t *root;
	const char *why = NULL;

	*out = NULL;
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		return access(path, F_OK) == 0 ? vf_add_warning(v, "state file "
		    "%s is unreadable (%s); verification coverage starts over",
		    path, jerr.text) : GFSB_OK;
	if (!json_is_object(root) || json_integer_value(json_object_get(root,
	    "version")) != STATE_VERSION)
		why = "is not a gfsbackup state file";
	else if (json_is_string(json_object_get(root, "repository")) &&
	    strcmp(json_string_value(json_object_get(root, "repository")),
	    gfsb_repo_id(v->r)) != 0)
		why = "belongs to another repository";
	if (why != NULL) {
		json_decref(root);
		return vf_add_warning(v, "state file %s %s; verification "
		    "coverage and history start over", path, why);
	}
	*out = root;
	return GFSB_OK;
}

/*
 * A pack never read yet: the night it was first seen ("s:DATE" in the
 * state; today for one the state does not know) kept, and whether it is
 * overdue: under rotate/T its slice has come round since, without a read
 * (a night the verification did not run, or a pack that failed).
 */
static gfsb_err
unread_pack(struct verify *v, const char *val, const char *hex, json_t *np,
    int64_t today)
{
	struct gfsb_verify_result *res = v->res;
	char date[16], seen[24];
	int64_t d;

	if (val == NULL || strncmp(val, "s:", 2) != 0 ||
	    vf_day_parse(val + 2, &d) != 0 || d > today)
		d = today;
	res->never_read++;
	if (v->o->read == GFSB_VERIFY_READ_ROTATE && v->o->slices > 0 &&
	    today - d >= (int64_t)v->o->slices)
		res->overdue++;
	vf_day_format(d, date, sizeof(date));
	snprintf(seen, sizeof(seen), "s:%s", date);
	return json_object_set_new(np, hex, json_string(seen)) != 0 ?
	    GFSB_ENOMEM : GFSB_OK;
}

/* Packs: today for those read cleanly, the old date for the rest still
 * indexed, the first night seen for those never read; packs gone are
 * forgotten.  Also the coverage in res: of the packs ever read, the
 * oldest read (days_since_all_read -1 when one of them is overdue). */
static gfsb_err
state_packs(struct verify *v, const json_t *packs, json_t *np, int64_t today)
{
	struct gfsb_verify_result *res = v->res;
	char hex[GFSB_ID_HEX], date[16];
	const char *val;
	int64_t d, oldest = 0;
	size_t i;
	gfsb_err e;

	for (i = 0; i < v->npacks; i++) {
		/* Deleted by a prune (still listed, marked): gone. */
		if (v->packs[i].doomed_at != 0 && vf_stored_pack(v, i) == NULL)
			continue;
		gfsb_hex_encode(v->packs[i].id, GFSB_ID_LEN, hex);
		val = json_is_object(packs) ? json_string_value(
		    json_object_get(packs, hex)) : NULL;
		if (v->read_ok[i]) {
			d = today;
		} else if (vf_day_parse(val, &d) != 0) {
			if ((e = unread_pack(v, val, hex, np, today)) !=
			    GFSB_OK)
				return e;
			continue;
		}
		if (d > today)
			d = today; /* a clock that went back */
		if (today - d > oldest)
			oldest = today - d;
		vf_day_format(d, date, sizeof(date));
		if (json_object_set_new(np, hex, json_string(date)) != 0)
			return GFSB_ENOMEM;
	}
	/* Outside rotate/T nothing is due on a given night: every pack
	 * never read counts against the coverage. */
	res->days_since_all_read = res->overdue > 0 || (res->never_read > 0 &&
	    v->o->read != GFSB_VERIFY_READ_ROTATE) ? -1 : oldest;
	return GFSB_OK;
}

/* Nights: the old ones, tonight replaced, the last STATE_NIGHTS; into nn
 * and res->nights. */
static gfsb_err
state_nights(struct verify *v, const json_t *nights, json_t *nn,
    int64_t today)
{
	struct gfsb_verify_result *res = v->res;
	struct gfsb_verify_night *nv;
	const json_t *it;
	char date[16];
	size_t i, nnv = 0, idx;
	int64_t d;

	if ((nv = calloc(STATE_NIGHTS + 1, sizeof(*nv))) == NULL)
		return GFSB_ENOMEM;
	json_array_foreach(nights, idx, it) {
		if (!json_is_object(it) || vf_day_parse(json_string_value(
		    json_object_get(it, "date")), &d) != 0 || d >= today)
			continue;
		if (nnv == STATE_NIGHTS) {
			memmove(nv, nv + 1, (nnv - 1) * sizeof(*nv));
			nnv--;
		}
		nv[nnv].day = d;
		nv[nnv].repo_size = (uint64_t)json_integer_value(
		    json_object_get(it, "repo_size"));
		nv[nnv].packs = (uint64_t)json_integer_value(
		    json_object_get(it, "packs"));
		nv[nnv].new_data = (uint64_t)json_integer_value(
		    json_object_get(it, "new_data"));
		nv[nnv++].snapshots = (uint64_t)json_integer_value(
		    json_object_get(it, "snapshots"));
	}
	qsort(nv, nnv, sizeof(*nv), nightcmp);
	if (nnv == STATE_NIGHTS) {
		memmove(nv, nv + 1, (nnv - 1) * sizeof(*nv));
		nnv--;
	}
	nv[nnv].day = today;
	nv[nnv].repo_size = res->repo_bytes;
	nv[nnv].packs = res->packs;
	nv[nnv].snapshots = res->snapshots;
	for (i = 0; i < v->nsnaps; i++)
		if (v->snaps[i]->has_summary &&
		    gfsb_ops_verify_day(&v->snaps[i]->time) == today)
			nv[nnv].new_data +=
			    v->snaps[i]->summary.data_added_packed;
	nnv++;
	for (i = 0; i < nnv; i++) {
		json_t *o = json_object();

		vf_day_format(nv[i].day, date, sizeof(date));
		if (o == NULL || json_array_append_new(nn, o) != 0 ||
		    json_object_set_new(o, "date", json_string(date)) != 0 ||
		    json_object_set_new(o, "repo_size",
		    json_integer((json_int_t)nv[i].repo_size)) != 0 ||
		    json_object_set_new(o, "packs",
		    json_integer((json_int_t)nv[i].packs)) != 0 ||
		    json_object_set_new(o, "snapshots",
		    json_integer((json_int_t)nv[i].snapshots)) != 0 ||
		    json_object_set_new(o, "new_data",
		    json_integer((json_int_t)nv[i].new_data)) != 0) {
			free(nv);
			return GFSB_ENOMEM;
		}
	}
	res->nights = nv;
	res->nnights = nnv;
	return GFSB_OK;
}

/* Write it whole or not at all: temporary file, fsync, rename.  What
 * cannot be written is a warning (add_warning's status). */
static gfsb_err
state_write(struct verify *v, const char *path, const json_t *nroot)
{
	char *tmp = NULL, *dir, *slash;
	gfsb_err e = GFSB_ENOMEM;
	int fd, rc;

	if ((dir = strdup(path)) == NULL)
		return GFSB_ENOMEM;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((rc = gfsb_sys_mkdirs(dir)) != 0) {
			e = vf_add_warning(v, "cannot create %s for the state "
			    "file: %s", dir, strerror(rc));
			goto out;
		}
	}
	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0 || json_dumpfd(nroot, fd, JSON_COMPACT | JSON_SORT_KEYS) != 0 ||
	    fsync(fd) != 0 || close(fd) != 0 || (fd = -1, rename(tmp, path)) !=
	    0) {
		e = vf_add_warning(v, "cannot write the state file %s: %s",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		goto out;
	}
	e = GFSB_OK;
out:
	free(tmp);
	free(dir);
	return e;
}

gfsb_err
vf_state_update(struct verify *v)
{
	struct gfsb_verify_result *res = v->res;
	const char *path = v->o->state_file;
	json_t *root = NULL, *nroot = NULL, *np, *nn;
	int64_t today = gfsb_ops_verify_day(&v->o->now);
	gfsb_err e, fatal = GFSB_OK;

	res->have_state = 1;
	if ((e = state_read(v, path, &root)) != GFSB_OK)
		goto out;
	e = GFSB_ENOMEM;
	if ((nroot = json_object()) == NULL || (np = json_object()) == NULL ||
	    json_object_set_new(nroot, "packs", np) != 0 ||
	    (nn = json_array()) == NULL ||
	    json_object_set_new(nroot, "nights", nn) != 0 ||
	    json_object_set_new(nroot, "version",
	    json_integer(STATE_VERSION)) != 0 ||
	    json_object_set_new(nroot, "repository",
	    json_string(gfsb_repo_id(v->r))) != 0)
		goto out;
	if ((e = state_packs(v, root != NULL ? json_object_get(root, "packs") :
	    NULL, np, today)) != GFSB_OK ||
	    (e = state_nights(v, root != NULL ? json_object_get(root,
	    "nights") : NULL, nn, today)) != GFSB_OK)
		goto out;
	/* A storage failure here fails the verification, as anywhere. */
	if ((e = ops_tamper(v->r, v->o, root, nroot, v->snaps, v->nsnaps,
	    &v->snapnames, v->keys, v->nkeys, res)) != GFSB_OK) {
		fatal = e;
		goto out;
	}
	e = state_write(v, path, nroot);
out:
	if (e != GFSB_OK && e != GFSB_ENOMEM)
		e = GFSB_OK;
	if (fatal != GFSB_OK)
		e = fatal;
	json_decref(root);
	json_decref(nroot);
	return e;
}

/* ---- Object Lock dates ---- */

static gfsb_err lock_finding(void *cookie, const char *fmt, ...)
    GFSB_PRINTF(2, 3);

static gfsb_err
lock_finding(void *cookie, const char *fmt, ...)
{
	struct gfsb_verify_result *res = cookie;
	va_list ap;
	gfsb_err e;

	va_start(ap, fmt);
	e = gfsb_strv_vaddf(&res->tamper, &res->ntamper, fmt, ap);
	va_end(ap);
	return e;
}

/*
 * A repository that must be locked: its config must say so (an attacker
 * with the key could reseal it without), and with the policy, the dates
 * are read and compared with what the policy needed a day ago.  Not on a
 * view of the past (its dates are the present's).
 */
gfsb_err
vf_check_locks_dates(struct verify *v)
{
	enum gfsb_lock_mode mode = gfsb_repo_lock_mode(v->r);
	struct gfsb_lock_opts lo;

	if (gfsb_backend_as_of(gfsb_repo_backend(v->r)) != 0)
		return GFSB_OK;
	if (v->o->expect_lock != GFSB_LOCK_NONE && mode != v->o->expect_lock)
		return lock_finding(v->res, "the config says the repository is "
		    "%s%s, but it must be locked in %s",
		    mode == GFSB_LOCK_NONE ? "not locked" : "locked in ",
		    mode == GFSB_LOCK_NONE ? "" : gfsb_lock_mode_name(mode),
		    gfsb_lock_mode_name(v->o->expect_lock));
	if (mode == GFSB_LOCK_NONE || v->o->policy == NULL)
		return GFSB_OK;
	memset(&lo, 0, sizeof(lo));
	lo.policy = v->o->policy;
	lo.group_by = v->o->group_by;
	lo.now = v->o->now;
	lo.margin = v->o->lock_margin > 0 ? v->o->lock_margin :
	    GFSB_LOCK_MARGIN_DEFAULT;
	return ops_lock_verify(v->r, &lo, (const char (*)[GFSB_ID_HEX])
	    v->res->read, v->res->nread, lock_finding, v->res,
	    &v->res->locks_checked, &v->res->locks_short);
}

