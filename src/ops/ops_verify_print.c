/*
 * A verification told to a person or a program: its progress line, the
 * lines gfsbackup verify prints, and its JSON.  The report tells it its
 * own way (ops_report_build.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/report.h>

#include "ops_line.h"

void
gfsb_ops_verify_progress_line(const struct gfsb_verify_progress *p,
    char *buf, size_t len)
{
	char b[32];
	unsigned s = (unsigned)p->seconds;

	if (strcmp(p->phase, "read") == 0) {
		gfsb_size_format(p->bytes, b, sizeof(b));
		snprintf(buf, len, "[%u:%02u] reading packs: %llu of %llu, %s",
		    s / 60, s % 60, (unsigned long long)p->done,
		    (unsigned long long)p->total, b);
	} else if (p->total > 0) {
		snprintf(buf, len, "[%u:%02u] checking %s: %llu of %llu",
		    s / 60, s % 60, p->phase, (unsigned long long)p->done,
		    (unsigned long long)p->total);
	} else {
		snprintf(buf, len, "[%u:%02u] checking %s", s / 60, s % 60,
		    p->phase);
	}
}

int
gfsb_ops_verify_clean(const struct gfsb_verify_result *res)
{
	return res->ndamage == 0 && res->broken_total == 0 &&
	    res->ntamper == 0;
}

/* What was checked, what was read, and how much of it lately. */
static void
counts(struct ops_lines *o, const struct gfsb_verify_result *res)
{
	char b1[32], b2[32], rate[32] = "";

	gfsb_size_format(res->pack_bytes, b1, sizeof(b1));
	ops_line_put(o, "checked %zu keys, %zu index files, %zu snapshots, "
	    "%zu trees, %llu data blobs, %llu packs (%s)", res->keys,
	    res->index_files,
	    res->snapshots, res->trees, (unsigned long long)res->data_blobs,
	    (unsigned long long)res->packs, b1);
	gfsb_size_format(res->bytes_read, b2, sizeof(b2));
	if (res->seconds > 0 && res->bytes_read > 0)
		snprintf(rate, sizeof(rate), " (%.1f MB/s)",
		    (double)res->bytes_read / 1e6 / res->seconds);
	ops_line_put(o, "read (%s): %llu packs, %s, %llu blobs in %.1f s%s",
	    res->mode, (unsigned long long)res->packs_read, b2,
	    (unsigned long long)res->blobs_read, res->seconds, rate);
	if (!res->have_state)
		return;
	if (res->overdue > 0)
		ops_line_put(o, "coverage: %llu pack%s OVERDUE: never read, "
		    "though their slice came round since they were stored",
		    (unsigned long long)res->overdue, res->overdue == 1 ? "" :
		    "s");
	else if (res->days_since_all_read < 0)
		ops_line_put(o, "coverage: %llu of %llu packs not read yet",
		    (unsigned long long)res->never_read,
		    (unsigned long long)res->packs);
	else if (res->days_since_all_read == 0 && res->never_read == 0)
		ops_line_put(o, "coverage: every pack read today");
	else
		ops_line_put(o, "coverage: every pack read in the last %lld "
		    "day%s%s", (long long)res->days_since_all_read + 1,
		    res->days_since_all_read == 0 ? "" : "s",
		    res->never_read > 0 ? "; new packs wait for their night" :
		    "");
}

/* Damage, the history's changes, and the verdict. */
static void
findings(struct ops_lines *o, const struct gfsb_verify_result *res)
{
	size_t i;

	for (i = 0; i < res->ndamage; i++)
		ops_line_put(o, "DAMAGED %s %.16s: %s", res->damage[i].kind,
		    res->damage[i].id, res->damage[i].why);
	for (i = 0; i < res->nbroken; i++)
		ops_line_put(o, "BROKEN snapshot %.8s %s: %s",
		    res->broken[i].snapshot, res->broken[i].path,
		    res->broken[i].why);
	if (res->broken_total > res->nbroken)
		ops_line_put(o, "... and %llu more broken files",
		    (unsigned long long)(res->broken_total - res->nbroken));
	if (res->locks_checked > 0)
		ops_line_put(o, "Object Lock: %llu dates read, %llu short of "
		    "what the policy needs",
		    (unsigned long long)res->locks_checked,
		    (unsigned long long)res->locks_short);
	for (i = 0; i < res->ntamper; i++)
		ops_line_put(o, "HISTORY CHANGED: %s", res->tamper[i]);
	if (res->ntamper > 0)
		ops_line_put(o, "TAMPERING SUSPECTED: the repository's "
		    "history changed in %zu way%s since the last verification "
		    "(above)", res->ntamper, res->ntamper == 1 ? "" : "s");
	if (res->ndamage == 0 && res->broken_total == 0) {
		ops_line_put(o, "no damage found");
		return;
	}
	ops_line_put(o, "DAMAGE FOUND: %zu damaged objects break %llu files "
	    "in %zu snapshots", res->ndamage,
	    (unsigned long long)res->broken_total, res->nbroken_snapshots);
	for (i = 0; gfsb_report_damage_advice[i] != NULL; i++)
		ops_line_put(o, "%-7s%s", i == 0 ? "to do:" : "",
		    gfsb_report_damage_advice[i]);
}

gfsb_err
gfsb_ops_verify_lines(const struct gfsb_verify_result *res,
    gfsb_ops_line_fn *fn, void *cookie)
{
	struct ops_lines o;
	size_t i;

	ops_line_init(&o, fn, cookie);
	for (i = 0; i < res->nwarnings; i++) {
		ops_line_add(&o, "warning: %s", res->warnings[i]);
		ops_line_end(&o, GFSB_OPS_LINE_WARNING);
	}
	counts(&o, res);
	findings(&o, res);
	return ops_line_fini(&o);
}

/*
 * n strings as a JSON array under name in o; 0 when it is.  v holds
 * pointers (stride 0) or arrays of stride bytes (hex ids).
 */
static int
strings(json_t *o, const char *name, const void *v, size_t stride, size_t n)
{
	json_t *a = json_array();
	const char *s;
	size_t i;

	if (a == NULL || json_object_set_new(o, name, a) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		s = stride == 0 ? ((char *const *)v)[i] :
		    (const char *)v + i * stride;
		if (json_array_append_new(a, json_string(s)) != 0)
			return -1;
	}
	return 0;
}

/* The damaged objects and the files they break. */
static int
damage(json_t *o, const struct gfsb_verify_result *res)
{
	json_t *a, *x;
	size_t i;

	if ((a = json_array()) == NULL || json_object_set_new(o, "damage", a))
		return -1;
	for (i = 0; i < res->ndamage; i++)
		if ((x = json_pack("{s:s, s:s, s:s}", "kind",
		    res->damage[i].kind, "id", res->damage[i].id, "why",
		    res->damage[i].why)) == NULL ||
		    json_array_append_new(a, x) != 0)
			return -1;
	if ((a = json_array()) == NULL || json_object_set_new(o, "broken", a))
		return -1;
	for (i = 0; i < res->nbroken; i++)
		if ((x = json_pack("{s:s, s:s, s:s}", "snapshot",
		    res->broken[i].snapshot, "path", res->broken[i].path, "why",
		    res->broken[i].why)) == NULL ||
		    json_array_append_new(a, x) != 0)
			return -1;
	return 0;
}

char *
gfsb_ops_verify_json(const struct gfsb_verify_result *res,
    const struct gfsb_time *now)
{
	char when[40], *s = NULL;
	json_t *o;

	gfsb_time_format_rfc3339(now, when, sizeof(when));
	o = json_pack("{s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:f}",
	    "status", res->ndamage > 0 || res->broken_total > 0 ? "damaged" :
	    res->ntamper > 0 ? "history-changed" : "ok",
	    "time", when, "mode", res->mode, "counts",
	    "keys", (json_int_t)res->keys,
	    "index_files", (json_int_t)res->index_files,
	    "snapshots", (json_int_t)res->snapshots,
	    "trees", (json_int_t)res->trees,
	    "data_blobs", (json_int_t)res->data_blobs,
	    "packs", (json_int_t)res->packs,
	    "pack_bytes", (json_int_t)res->pack_bytes,
	    "repo_bytes", (json_int_t)res->repo_bytes,
	    "packs_read", (json_int_t)res->packs_read,
	    "bytes_read", (json_int_t)res->bytes_read,
	    "blobs_read", (json_int_t)res->blobs_read,
	    "duplicates", (json_int_t)res->duplicates,
	    "orphaned_packs", (json_int_t)res->orphaned,
	    "stale_locks", (json_int_t)res->locks_stale,
	    "broken_files", (json_int_t)res->broken_total,
	    "seconds", res->seconds);
	if (o == NULL)
		return NULL;
	if (damage(o, res) == 0 &&
	    strings(o, "broken_snapshots", res->broken_snapshots,
	    GFSB_ID_HEX, res->nbroken_snapshots) == 0 &&
	    strings(o, "warnings", res->warnings, 0, res->nwarnings) == 0 &&
	    strings(o, "history_changed", res->tamper, 0, res->ntamper) ==
	    0 && strings(o, "packs_read", res->read, GFSB_ID_HEX, res->nread) ==
	    0 &&
	    (!res->have_state || json_object_set_new(o, "coverage",
	    json_pack("{s:I, s:I, s:I}", "days_since_all_read",
	    (json_int_t)res->days_since_all_read, "never_read",
	    (json_int_t)res->never_read, "overdue",
	    (json_int_t)res->overdue)) == 0))
		s = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return s;
}
