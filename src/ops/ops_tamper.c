/*
 * Tamper evidence: what a verification sees, compared with what the
 * verifications before it saw.
 *
 * Every object is content-named and authenticated, so nobody without the
 * key can change one undetected; but whoever holds the server holds the
 * key, and can still delete snapshots, add key files, replace the config,
 * or add snapshots made to look old.  None of that is damage: each
 * object left is genuine.  So a verification remembers, in its own state
 * file, the snapshots (time, host, paths, tags), the key files and the
 * config's SHA-256 it saw, and the newest snapshot time of each host;
 * the next one names, as failures:
 *   - snapshots gone that the retention policy would still keep, and a
 *     snapshot count that fell by more than the policy allows;
 *   - key files added or removed, a config that changed;
 *   - a new snapshot older than the newest one already seen of its host,
 *     or older than its object's storage time by more than a day.
 * A snapshot `tag` rewrote is neither gone nor new: its successor names
 * it ("original") and has its time, host, paths and tree; that tags were
 * taken away is a warning.
 * A verifier on another machine, with read-only credentials and its own
 * state, sees the same: the server cannot rewrite that state.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "ops_internal.h"

#define LISTED_MAX 20		/* snapshots named one by one */
#define STORED_SLACK (24 * 3600) /* a snapshot's time before storage */

struct tamper {
	struct gfsb_repo *r;
	const struct gfsb_verify_opts *o;
	struct gfsb_verify_result *res;
	json_t *old;	/* the state's "seen", or NULL */
	char since[64]; /* when it was seen */
};

/* A finding: what the history says was tampered with. */
static gfsb_err
finding(struct gfsb_verify_result *res, const char *fmt, ...)
    GFSB_PRINTF(2, 3);

static gfsb_err
finding(struct gfsb_verify_result *res, const char *fmt, ...)
{
	va_list ap;
	gfsb_err e;

	va_start(ap, fmt);
	e = gfsb_strv_vaddf(&res->tamper, &res->ntamper, fmt, ap);
	va_end(ap);
	return e;
}

static json_t *
strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* A string array from JSON (NULL entries skipped); *out malloc'd. */
static gfsb_err
strv_from(const json_t *a, char ***out, size_t *n)
{
	size_t i, k = 0;
	json_t *it;

	*out = NULL;
	*n = 0;
	if (!json_is_array(a) || json_array_size(a) == 0)
		return GFSB_OK;
	if ((*out = calloc(json_array_size(a), sizeof(**out))) == NULL)
		return GFSB_ENOMEM;
	json_array_foreach(a, i, it) {
		if (!json_is_string(it))
			continue;
		if (((*out)[k] = strdup(json_string_value(it))) == NULL)
			return GFSB_ENOMEM;
		k++;
	}
	*n = k;
	return GFSB_OK;
}

/* What to remember of one snapshot. */
static json_t *
snap_seen(const struct gfsb_snapshot *s)
{
	char t[64], tree[GFSB_ID_HEX];
	json_t *o;

	gfsb_time_format_rfc3339(&s->time, t, sizeof(t));
	gfsb_hex_encode(s->tree, GFSB_ID_LEN, tree);
	o = json_pack("{s:s, s:s, s:o, s:o, s:s}", "time", t, "host",
	    s->hostname ? s->hostname : "", "paths", strv_json(s->paths,
	    s->npaths), "tags", strv_json(s->tags, s->ntags), "tree", tree);
	if (o != NULL && s->original[0] != '\0' &&
	    json_object_set_new(o, "original", json_string(s->original)) !=
	    0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The same strings in the same order? */
static int
same_strv(const json_t *a, char *const *v, size_t n)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!json_is_string(json_array_get(a, i)) ||
		    strcmp(json_string_value(json_array_get(a, i)), v[i]) != 0)
			return 0;
	return 1;
}

/*
 * Is s a rewrite by tag of the snapshot seen as (id, o): does it name it,
 * or the original they share, and is everything but the tags the same
 * (time, host, paths, and the tree where it was recorded)?  Then the one
 * seen is not gone, only renamed, and s is not new.
 */
static int
is_retag_of(const struct gfsb_snapshot *s, const char *id, const json_t *o)
{
	const char *orig = json_string_value(json_object_get(o, "original"));
	const char *tree = json_string_value(json_object_get(o, "tree"));
	const char *time = json_string_value(json_object_get(o, "time"));
	char t[64], hex[GFSB_ID_HEX];

	if (s->original[0] == '\0' || time == NULL ||
	    (strcmp(s->original, id) != 0 &&
	    (orig == NULL || strcmp(s->original, orig) != 0)))
		return 0;
	gfsb_time_format_rfc3339(&s->time, t, sizeof(t));
	gfsb_hex_encode(s->tree, GFSB_ID_LEN, hex);
	return strcmp(t, time) == 0 && (tree == NULL || strcmp(hex, tree) ==
	    0) && strcmp(s->hostname, json_string_value(json_object_get(o,
	    "host")) ? json_string_value(json_object_get(o, "host")) : "") ==
	    0 && same_strv(json_object_get(o, "paths"), s->paths, s->npaths);
}

/* The snapshot of snaps that rewrote the one seen as (id, o); NULL. */
static const struct gfsb_snapshot *
retagged_as(struct gfsb_snapshot *const *snaps, size_t n, const char *id,
    const json_t *o)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_retag_of(snaps[i], id, o))
			return snaps[i];
	return NULL;
}

/*
 * The one seen as (id, o) was retagged as s: said when tags were taken
 * away (a tag a policy keeps by, a legal hold, can be taken away before
 * a deletion that then looks allowed: the report shows it happened).
 */
static gfsb_err
retag_note(struct tamper *t, const char *id, const json_t *o,
    const struct gfsb_snapshot *s)
{
	const json_t *tags = json_object_get(o, "tags"), *it;
	char gone[512] = "";
	size_t i, k, n = 0;
	const char *tag;

	json_array_foreach(tags, i, it) {
		if ((tag = json_string_value(it)) == NULL)
			continue;
		for (k = 0; k < s->ntags && strcmp(s->tags[k], tag) != 0; k++)
			;
		if (k == s->ntags && n < sizeof(gone))
			n += (size_t)snprintf(gone + n, sizeof(gone) - n,
			    "%s%s", n ? ", " : "", tag);
	}
	if (n == 0)
		return GFSB_OK;
	return gfsb_strv_addf(&t->res->warnings, &t->res->nwarnings,
	    "snapshot %.8s was retagged as %.8s since the verification of "
	    "%s: tags removed: %s", id, s->id, t->since, gone);
}

/* A snapshot as remembered, rebuilt for the policy (no tree). */
static gfsb_err
snap_from_seen(const char *id, const json_t *o, struct gfsb_snapshot **out)
{
	struct gfsb_snapshot *s;
	const char *t, *host;
	gfsb_err e = GFSB_ENOMEM;

	*out = NULL;
	t = json_string_value(json_object_get(o, "time"));
	host = json_string_value(json_object_get(o, "host"));
	if (t == NULL || host == NULL)
		return GFSB_ECORRUPT;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return GFSB_ENOMEM;
	snprintf(s->id, sizeof(s->id), "%s", id);
	if (gfsb_time_parse_rfc3339(t, &s->time) != GFSB_OK) {
		e = GFSB_ECORRUPT;
		goto fail;
	}
	if ((s->hostname = strdup(host)) == NULL ||
	    strv_from(json_object_get(o, "paths"), &s->paths, &s->npaths) !=
	    GFSB_OK ||
	    strv_from(json_object_get(o, "tags"), &s->tags, &s->ntags) !=
	    GFSB_OK)
		goto fail;
	*out = s;
	return GFSB_OK;
fail:
	gfsb_repo_snapshot_free(s);
	return e;
}

/*
 * Snapshots seen before and gone now: each one the policy would still
 * keep (deciding over what is here and what is gone, as of tonight) is
 * named, and so is the count that fell further than the policy allows.
 * Without a policy, what is gone cannot be judged: a warning says how
 * many.
 */
static gfsb_err
check_gone(struct tamper *t, struct gfsb_snapshot *const *snaps, size_t n,
    const struct gfsb_objlist *listed)
{
	json_t *seen = json_object_get(t->old, "snapshots");
	struct gfsb_snapshot **all = NULL, *s;
	struct gfsb_gfs_decision *dec = NULL;
	size_t ngone = 0, nall = 0, kept = 0, i, before;
	const char *id;
	json_t *o;
	char roles[128], when[64];
	gfsb_err e = GFSB_OK;

	if (!json_is_object(seen))
		return GFSB_OK;
	before = json_object_size(seen);
	if ((all = calloc(n + before + 1, sizeof(*all))) == NULL)
		return GFSB_ENOMEM;
	for (i = 0; i < n; i++)
		all[nall++] = snaps[i];
	json_object_foreach(seen, id, o) {
		const struct gfsb_snapshot *now;

		if (gfsb_objlist_find(listed, id) != NULL)
			continue;
		/* Not gone: rewritten with other tags. */
		if ((now = retagged_as(snaps, n, id, o)) != NULL) {
			if ((e = retag_note(t, id, o, now)) != GFSB_OK)
				goto out;
			continue;
		}
		if ((e = snap_from_seen(id, o, &s)) == GFSB_ECORRUPT) {
			e = GFSB_OK;
			continue; /* an entry we cannot read: not evidence */
		}
		if (e != GFSB_OK)
			goto out;
		all[nall++] = s;
		ngone++;
	}
	if (ngone == 0)
		goto out;
	if (t->o->policy == NULL) {
		e = gfsb_strv_addf(&t->res->warnings, &t->res->nwarnings,
		    "%zu snapshot%s gone since the "
		    "verification of %s (no retention policy given: give "
		    "--policy to check that the policy dropped them)", ngone,
		    ngone == 1 ? "" : "s", t->since);
		goto out;
	}
	if ((dec = calloc(nall, sizeof(*dec))) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	if ((e = ops_decide(t->o->policy, t->o->group_by ? t->o->group_by :
	    GFSB_GROUP_HOST | GFSB_GROUP_PATHS, all, nall, &t->o->now, dec)) !=
	    GFSB_OK)
		goto out;
	for (i = n; i < nall; i++)
		kept += dec[i].keep != 0;
	if (kept == 0)
		goto out;
	if ((e = finding(t->res, "%zu snapshot%s gone since the verification "
	    "of %s, %zu of them kept by the retention policy: the count fell "
	    "from %zu to %zu, the policy allows %zu", ngone, ngone == 1 ? "" :
	    "s", t->since, kept, before, n, before - (ngone - kept))) !=
	    GFSB_OK)
		goto out;
	for (i = n, kept = 0; i < nall && e == GFSB_OK; i++) {
		if (!dec[i].keep || kept++ >= LISTED_MAX)
			continue;
		gfsb_time_format_local(&all[i]->time, when, sizeof(when));
		e = finding(t->res, "snapshot %.8s (%s, host %s) is gone; the "
		    "policy keeps it as %s", all[i]->id, when,
		    all[i]->hostname, gfsb_ops_role_names(dec[i].roles, roles,
		    sizeof(roles)));
	}
	if (e == GFSB_OK && kept > LISTED_MAX)
		e = finding(t->res, "... and %zu more snapshots gone that the "
		    "policy keeps", kept - LISTED_MAX);
out:
	for (i = n; i < nall; i++)
		gfsb_repo_snapshot_free(all[i]);
	free(all);
	free(dec);
	return e;
}

/* Key files added or removed since they were last seen. */
static gfsb_err
check_keys(struct tamper *t, const struct gfsb_key_info *keys, size_t n)
{
	json_t *seen = json_object_get(t->old, "keys");
	char when[64];
	json_t *it;
	size_t i, j;
	gfsb_err e = GFSB_OK;

	if (!json_is_array(seen))
		return GFSB_OK;
	for (i = 0; i < n && e == GFSB_OK; i++) {
		json_array_foreach(seen, j, it)
			if (json_is_string(it) &&
			    strcmp(json_string_value(it), keys[i].id) == 0)
				break;
		if (j < json_array_size(seen))
			continue;
		gfsb_time_format_local(&keys[i].created, when, sizeof(when));
		e = finding(t->res, "key file %.8s was added since the "
		    "verification of %s (created %s on host %s by %s): the "
		    "repository's key set changed", keys[i].id, t->since,
		    when, keys[i].hostname, keys[i].username);
	}
	json_array_foreach(seen, j, it) {
		if (e != GFSB_OK || !json_is_string(it))
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(json_string_value(it), keys[i].id) == 0)
				break;
		if (i == n)
			e = finding(t->res, "key file %.8s was removed since "
			    "the verification of %s: the repository's key set "
			    "changed", json_string_value(it), t->since);
	}
	return e;
}

/* The SHA-256 of the config's stored bytes. */
static gfsb_err
config_digest(struct gfsb_repo *r, char hex[GFSB_ID_HEX])
{
	struct gfsb_buf b;
	gfsb_err e;

	gfsb_buf_init(&b);
	if ((e = gfsb_backend_get(gfsb_repo_backend(r), GFSB_OBJ_CONFIG,
	    "config", &b)) == GFSB_OK)
		gfsb_crypto_sha256_hex(b.data, b.len, hex);
	gfsb_buf_fini(&b);
	return e;
}

/* Is s a rewrite by tag of a snapshot seen before? */
static int
retag_seen(const json_t *seen, const struct gfsb_snapshot *s)
{
	const char *id;
	json_t *o;

	if (s->original[0] == '\0' || !json_is_object(seen))
		return 0;
	json_object_foreach((json_t *)(uintptr_t)seen, id, o)
		if (is_retag_of(s, id, o))
			return 1;
	return 0;
}

/*
 * Snapshots new since the last verification that claim to be older than
 * what was already seen of their host, or than the moment their object
 * was stored (by more than a day).  The storage time is not compared
 * when the verification runs at a chosen time (--time): a simulation
 * stores its objects now.
 */
static gfsb_err
check_new(struct tamper *t, struct gfsb_snapshot *const *snaps, size_t n,
    const struct gfsb_objlist *listed)
{
	json_t *seen = json_object_get(t->old, "snapshots");
	json_t *newest = json_object_get(t->old, "newest");
	const struct gfsb_objent *ent;
	struct gfsb_time real, top;
	char a[64], b[64];
	const char *v;
	int simulated;
	size_t i;
	gfsb_err e = GFSB_OK;

	gfsb_time_now(&real);
	simulated = real.sec - t->o->now.sec > STORED_SLACK ||
	    t->o->now.sec - real.sec > STORED_SLACK;
	for (i = 0; i < n && e == GFSB_OK; i++) {
		if (json_is_object(seen) &&
		    json_object_get(seen, snaps[i]->id) != NULL)
			continue;
		if (retag_seen(seen, snaps[i]))
			continue; /* an old snapshot with new tags */
		v = json_string_value(json_object_get(newest,
		    snaps[i]->hostname));
		if (v != NULL && gfsb_time_parse_rfc3339(v, &top) == GFSB_OK &&
		    gfsb_time_cmp(&snaps[i]->time, &top) < 0) {
			gfsb_time_format_local(&snaps[i]->time, a, sizeof(a));
			gfsb_time_format_local(&top, b, sizeof(b));
			e = finding(t->res, "snapshot %.8s (host %s) is new "
			    "since the verification of %s but claims %s, "
			    "before the newest one already seen of that host "
			    "(%s): a snapshot made to look old?", snaps[i]->id,
			    snaps[i]->hostname, t->since, a, b);
			continue;
		}
		ent = gfsb_objlist_find(listed, snaps[i]->id);
		if (simulated || ent == NULL || ent->mtime == 0 ||
		    snaps[i]->time.sec + STORED_SLACK >= ent->mtime)
			continue;
		gfsb_time_format_local(&snaps[i]->time, a, sizeof(a));
		top.sec = ent->mtime;
		top.nsec = 0;
		gfsb_time_format_local(&top, b, sizeof(b));
		e = finding(t->res, "snapshot %.8s (host %s) claims %s but was "
		    "stored at %s, more than a day later: a snapshot made to "
		    "look old?", snaps[i]->id, snaps[i]->hostname, a, b);
	}
	return e;
}

/* Tonight's "seen", for the next verification. */
static gfsb_err
remember(struct tamper *t, json_t *state, struct gfsb_snapshot *const *snaps,
    size_t n, const struct gfsb_key_info *keys, size_t nkeys,
    const char *config)
{
	json_t *seen, *so, *ko, *no, *oldnew;
	struct gfsb_time top;
	char ts[64];
	const char *host, *v;
	json_t *it;
	size_t i;

	if ((seen = json_object()) == NULL ||
	    json_object_set_new(state, "seen", seen) != 0 ||
	    (so = json_object()) == NULL ||
	    json_object_set_new(seen, "snapshots", so) != 0 ||
	    (ko = json_array()) == NULL ||
	    json_object_set_new(seen, "keys", ko) != 0 ||
	    (no = json_object()) == NULL ||
	    json_object_set_new(seen, "newest", no) != 0 ||
	    json_object_set_new(seen, "config", json_string(config)) != 0)
		return GFSB_ENOMEM;
	gfsb_time_format_rfc3339(&t->o->now, ts, sizeof(ts));
	if (json_object_set_new(seen, "date", json_string(ts)) != 0)
		return GFSB_ENOMEM;
	for (i = 0; i < n; i++)
		if (json_object_set_new(so, snaps[i]->id, snap_seen(snaps[i])) !=
		    0)
			return GFSB_ENOMEM;
	for (i = 0; i < nkeys; i++)
		if (json_array_append_new(ko, json_string(keys[i].id)) != 0)
			return GFSB_ENOMEM;
	/* The newest of each host: what was seen before, or newer. */
	oldnew = json_object_get(t->old, "newest");
	json_object_foreach(oldnew, host, it)
		if (json_is_string(it) && json_object_set_new(no, host,
		    json_string(json_string_value(it))) != 0)
			return GFSB_ENOMEM;
	for (i = 0; i < n; i++) {
		v = json_string_value(json_object_get(no, snaps[i]->hostname));
		if (v != NULL && gfsb_time_parse_rfc3339(v, &top) == GFSB_OK &&
		    gfsb_time_cmp(&snaps[i]->time, &top) <= 0)
			continue;
		gfsb_time_format_rfc3339(&snaps[i]->time, ts, sizeof(ts));
		if (json_object_set_new(no, snaps[i]->hostname,
		    json_string(ts)) != 0)
			return GFSB_ENOMEM;
	}
	return GFSB_OK;
}

gfsb_err
ops_tamper(struct gfsb_repo *r, const struct gfsb_verify_opts *o,
    const json_t *old_state, json_t *new_state,
    struct gfsb_snapshot *const *snaps, size_t n,
    const struct gfsb_objlist *listed, const struct gfsb_key_info *keys,
    size_t nkeys, struct gfsb_verify_result *res)
{
	struct tamper t;
	struct gfsb_time when;
	char config[GFSB_ID_HEX];
	const char *v;
	gfsb_err e;

	memset(&t, 0, sizeof(t));
	t.r = r;
	t.o = o;
	t.res = res;
	if ((e = config_digest(r, config)) != GFSB_OK)
		return e;
	t.old = old_state != NULL ? json_object_get(old_state, "seen") : NULL;
	if (!json_is_object(t.old))
		t.old = NULL;
	if (t.old != NULL) {
		v = json_string_value(json_object_get(t.old, "date"));
		if (v != NULL && gfsb_time_parse_rfc3339(v, &when) == GFSB_OK)
			gfsb_time_format_local(&when, t.since,
			    sizeof(t.since));
		else
			snprintf(t.since, sizeof(t.since), "an earlier night");
		v = json_string_value(json_object_get(t.old, "config"));
		if ((e = check_gone(&t, snaps, n, listed)) != GFSB_OK ||
		    (e = check_keys(&t, keys, nkeys)) != GFSB_OK ||
		    (e = check_new(&t, snaps, n, listed)) != GFSB_OK)
			return e;
		if (v != NULL && strcmp(v, config) != 0 &&
		    (e = finding(res, "the config changed since the "
		    "verification of %s (SHA-256 %.16s..., was %.16s...)",
		    t.since, config, v)) != GFSB_OK)
			return e;
	}
	return remember(&t, new_state, snaps, n, keys, nkeys, config);
}
