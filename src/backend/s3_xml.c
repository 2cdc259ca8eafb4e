/*
 * Reading S3's XML answers with expat: ListObjectsV2 pages, version
 * listings, errors, multipart upload ids and pending uploads, the bucket's
 * Object Lock and versioning configurations; and writing the one XML body
 * we send besides CompleteMultipartUpload, a Retention.
 *
 * The answers come from the network and may be forged: documents, keys and
 * counts are capped before anything is kept, only the elements we look for
 * at the depth we expect are read, and anything else is ignored.  Expat is
 * not asked to expand external entities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "backend_internal.h"
#include "s3_internal.h"

#define XML_MAX (64U << 20)
#define TEXT_MAX 4096	   /* S3 keys are at most 1024 bytes */
#define ITEMS_MAX 100000   /* per page; S3 sends at most 1000 */
#define VERSION_ID_MAX 1024 /* AWS's are 32 bytes, Ceph's 31 */

struct xstate {
	int depth;
	char elem[4][32];   /* names of the open elements, outermost first */
	char text[TEXT_MAX];
	size_t tlen;
	int overflow, bad;
	void *out;
	void (*on_end)(struct xstate *x, const char *name);
	/* item being built */
	char *key, *id;
	uint64_t size;
	int64_t mtime_ms;
	int latest, have_time;
	size_t max_items;
};

static void XMLCALL
x_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct xstate *x = ud;

	(void)attrs;
	if (x->depth < 4)
		snprintf(x->elem[x->depth], sizeof(x->elem[0]), "%s", name);
	x->depth++;
	x->tlen = 0;
	x->overflow = 0;
}

static void XMLCALL
x_text(void *ud, const XML_Char *s, int len)
{
	struct xstate *x = ud;

	if (len < 0 || x->tlen + (size_t)len >= TEXT_MAX) {
		x->overflow = 1;
		return;
	}
	memcpy(x->text + x->tlen, s, (size_t)len);
	x->tlen += (size_t)len;
}

static void XMLCALL
x_end(void *ud, const XML_Char *name)
{
	struct xstate *x = ud;

	x->text[x->tlen] = '\0';
	if (x->overflow)
		x->text[0] = '\0';
	x->on_end(x, name);
	x->depth--;
	x->tlen = 0;
}

/* Is the element just closed at `path` (e.g. {"Contents", "Key"}) below
 * the document element? */
static int
at(const struct xstate *x, const char *a, const char *b)
{
	if (b == NULL)
		return x->depth == 2 && strcmp(x->elem[1], a) == 0;
	return x->depth == 3 && strcmp(x->elem[1], a) == 0 &&
	    strcmp(x->elem[2], b) == 0;
}

static int
parse(struct xstate *x, const char *xml, size_t len)
{
	XML_Parser p;
	int ok;

	if (len > XML_MAX)
		return -1;
	if ((p = XML_ParserCreate(NULL)) == NULL)
		return -1;
	XML_SetUserData(p, x);
	XML_SetElementHandler(p, x_start, x_end);
	XML_SetCharacterDataHandler(p, x_text);
	ok = XML_Parse(p, xml, (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok && !x->bad ? 0 : -1;
}

/* ---- ListObjectsV2 ---- */

static void
list_end(struct xstate *x, const char *name)
{
	struct s3_list_page *pg = x->out;
	struct s3_list_item *grown;

	(void)name;
	if (at(x, "Contents", "Key")) {
		free(x->key);
		x->key = strdup(x->text);
	} else if (at(x, "Contents", "Size")) {
		x->size = strtoull(x->text, NULL, 10);
	} else if (at(x, "Contents", "LastModified")) {
		/* Unknown (0) rather than refused: a listing's dates are
		 * information here, not a decision. */
		if (s3_parse_time_ms(x->text, &x->mtime_ms) != 0)
			x->mtime_ms = 0;
	} else if (at(x, "Contents", NULL)) {
		if (x->key == NULL || x->key[0] == '\0' ||
		    pg->n >= ITEMS_MAX) {
			x->bad = 1;
			return;
		}
		if (pg->n == pg->cap) {
			size_t ncap = pg->cap ? 2 * pg->cap : 256;

			grown = realloc(pg->items, ncap * sizeof(*grown));
			if (grown == NULL) {
				x->bad = 1;
				return;
			}
			pg->items = grown;
			pg->cap = ncap;
		}
		pg->items[pg->n].key = x->key;
		pg->items[pg->n].mtime_ms = x->mtime_ms;
		pg->items[pg->n++].size = x->size;
		x->key = NULL;
		x->size = 0;
		x->mtime_ms = 0;
	} else if (at(x, "IsTruncated", NULL)) {
		pg->truncated = strcmp(x->text, "true") == 0;
	} else if (at(x, "NextContinuationToken", NULL)) {
		free(pg->next_token);
		pg->next_token = strdup(x->text);
	}
}

int
s3_xml_list(const char *xml, size_t len, struct s3_list_page *out)
{
	struct xstate x;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	x.out = out;
	x.on_end = list_end;
	r = parse(&x, xml, len);
	free(x.key);
	if (r == 0 && strcmp(x.elem[0], "ListBucketResult") != 0)
		r = -1;
	if (r == 0 && out->truncated && (out->next_token == NULL ||
	    out->next_token[0] == '\0'))
		r = -1; /* would loop forever */
	if (r != 0)
		s3_xml_list_fini(out);
	return r;
}

void
s3_xml_list_fini(struct s3_list_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->items[i].key);
	free(p->items);
	free(p->next_token);
	memset(p, 0, sizeof(*p));
}

/* ---- ListObjectVersions ---- */

static void
versions_end(struct xstate *x, const char *name)
{
	struct s3_version_page *pg = x->out;
	struct s3_version *grown, *v;
	const char *kind;

	(void)name;
	kind = x->depth == 3 ? x->elem[1] : x->depth == 2 ? name : "";
	if (strcmp(kind, "Version") != 0 && strcmp(kind, "DeleteMarker") != 0) {
		if (at(x, "IsTruncated", NULL)) {
			pg->truncated = strcmp(x->text, "true") == 0;
		} else if (at(x, "NextKeyMarker", NULL)) {
			free(pg->next_key);
			pg->next_key = strdup(x->text);
		} else if (at(x, "NextVersionIdMarker", NULL)) {
			free(pg->next_version);
			pg->next_version = strdup(x->text);
		}
		return;
	}
	if (at(x, kind, "Key")) {
		free(x->key);
		x->key = strdup(x->text);
	} else if (at(x, kind, "VersionId")) {
		free(x->id);
		x->id = strlen(x->text) <= VERSION_ID_MAX ? strdup(x->text) :
		    NULL;
	} else if (at(x, kind, "IsLatest")) {
		x->latest = strcmp(x->text, "true") == 0;
	} else if (at(x, kind, "LastModified")) {
		x->have_time = s3_parse_time_ms(x->text, &x->mtime_ms) == 0;
	} else if (at(x, kind, "Size")) {
		x->size = strtoull(x->text, NULL, 10);
	} else if (at(x, kind, NULL)) {
		/* Without its key, id and date an entry cannot be placed in
		 * time: the whole page is refused, never half-read. */
		if (x->key == NULL || x->key[0] == '\0' || x->id == NULL ||
		    x->id[0] == '\0' || !x->have_time ||
		    pg->n >= x->max_items) {
			x->bad = 1;
			return;
		}
		if (pg->n == pg->cap) {
			size_t ncap = pg->cap ? 2 * pg->cap : 256;

			grown = realloc(pg->v, ncap * sizeof(*grown));
			if (grown == NULL) {
				x->bad = 1;
				return;
			}
			pg->v = grown;
			pg->cap = ncap;
		}
		v = &pg->v[pg->n++];
		v->key = x->key;
		v->version_id = x->id;
		v->size = strcmp(kind, "Version") == 0 ? x->size : 0;
		v->mtime_ms = x->mtime_ms;
		v->is_latest = x->latest;
		v->is_marker = strcmp(kind, "DeleteMarker") == 0;
		x->key = x->id = NULL;
		x->size = 0;
		x->mtime_ms = 0;
		x->latest = x->have_time = 0;
	}
}

int
s3_xml_versions(const char *xml, size_t len, size_t max_items,
    struct s3_version_page *out)
{
	struct xstate x;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	x.out = out;
	x.on_end = versions_end;
	x.max_items = max_items < ITEMS_MAX ? max_items : ITEMS_MAX;
	r = parse(&x, xml, len);
	free(x.key);
	free(x.id);
	if (r == 0 && strcmp(x.elem[0], "ListVersionsResult") != 0)
		r = -1;
	if (r == 0 && out->truncated && (out->next_key == NULL ||
	    out->next_key[0] == '\0'))
		r = -1; /* would loop forever */
	if (r != 0)
		s3_xml_versions_fini(out);
	return r;
}

void
s3_xml_versions_fini(struct s3_version_page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].key);
		free(p->v[i].version_id);
	}
	free(p->v);
	free(p->next_key);
	free(p->next_version);
	memset(p, 0, sizeof(*p));
}

/* ---- bucket configurations ---- */

struct confout {
	const char *want;	/* the element below the document element */
	char value[32];
	int found;
};

static void
conf_end(struct xstate *x, const char *name)
{
	struct confout *c = x->out;

	(void)name;
	if (at(x, c->want, NULL)) {
		/* A value longer than any S3 sends is no known value. */
		if (strlen(x->text) < sizeof(c->value))
			memcpy(c->value, x->text, strlen(x->text) + 1);
		else
			strcpy(c->value, "?");
		c->found = 1;
	}
}

/* The text of doc/want, "" if there is none; -1 if the document is not a
 * doc. */
static int
conf_value(const char *xml, size_t len, const char *doc, const char *want,
    struct confout *c)
{
	struct xstate x;

	memset(c, 0, sizeof(*c));
	c->want = want;
	memset(&x, 0, sizeof(x));
	x.out = c;
	x.on_end = conf_end;
	if (parse(&x, xml, len) != 0 || strcmp(x.elem[0], doc) != 0)
		return -1;
	return 0;
}

int
s3_xml_lock_config(const char *xml, size_t len, int *enabled)
{
	struct confout c;

	if (conf_value(xml, len, "ObjectLockConfiguration",
	    "ObjectLockEnabled", &c) != 0)
		return -1;
	*enabled = strcmp(c.value, "Enabled") == 0;
	return 0;
}

int
s3_xml_versioning(const char *xml, size_t len, int *state)
{
	struct confout c;

	if (conf_value(xml, len, "VersioningConfiguration", "Status", &c) != 0)
		return -1;
	if (!c.found || c.value[0] == '\0')
		*state = 0;
	else if (strcmp(c.value, "Enabled") == 0)
		*state = 1;
	else if (strcmp(c.value, "Suspended") == 0)
		*state = 2;
	else
		return -1;
	return 0;
}

int
s3_xml_retention_body(const char *mode, int64_t until, char *out,
    size_t len)
{
	char date[32];
	int n;

	gfsb_backend_fmt_time(until, date, sizeof(date));
	n = snprintf(out, len, "<Retention xmlns=\"http://s3.amazonaws.com/"
	    "doc/2006-03-01/\"><Mode>%s</Mode><RetainUntilDate>%s"
	    "</RetainUntilDate></Retention>", mode, date);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* ---- errors ---- */

struct errout {
	char *code, *msg;
	size_t clen, mlen;
};

static void
error_end(struct xstate *x, const char *name)
{
	struct errout *e = x->out;

	(void)name;
	if (at(x, "Code", NULL))
		snprintf(e->code, e->clen, "%s", x->text);
	else if (at(x, "Message", NULL))
		snprintf(e->msg, e->mlen, "%s", x->text);
}

void
s3_xml_error(const char *xml, size_t len, char *code, size_t clen, char *msg,
    size_t mlen)
{
	struct errout e = { code, msg, clen, mlen };
	struct xstate x;

	code[0] = msg[0] = '\0';
	if (len == 0)
		return;
	memset(&x, 0, sizeof(x));
	x.out = &e;
	x.on_end = error_end;
	if (parse(&x, xml, len) != 0)
		code[0] = msg[0] = '\0';
}

/* ---- multipart ---- */

struct idout {
	char *id;
	size_t len;
	int found;
};

static void
upload_id_end(struct xstate *x, const char *name)
{
	struct idout *o = x->out;

	(void)name;
	if (at(x, "UploadId", NULL) && x->text[0] != '\0') {
		snprintf(o->id, o->len, "%s", x->text);
		o->found = 1;
	}
}

int
s3_xml_upload_id(const char *xml, size_t len, char *out, size_t olen)
{
	struct idout o = { out, olen, 0 };
	struct xstate x;

	memset(&x, 0, sizeof(x));
	x.out = &o;
	x.on_end = upload_id_end;
	if (parse(&x, xml, len) != 0 || !o.found)
		return -1;
	return 0;
}

struct uploads {
	struct s3_upload *v;
	size_t n, cap;
	int truncated;
};

static void
uploads_end(struct xstate *x, const char *name)
{
	struct uploads *u = x->out;
	struct s3_upload *grown;

	(void)name;
	if (at(x, "Upload", "Key")) {
		free(x->key);
		x->key = strdup(x->text);
	} else if (at(x, "Upload", "UploadId")) {
		free(x->id);
		x->id = strdup(x->text);
	} else if (at(x, "Upload", "Initiated")) {
		if (s3_parse_time_ms(x->text, &x->mtime_ms) != 0)
			x->mtime_ms = 0;
	} else if (at(x, "Upload", NULL)) {
		if (x->key == NULL || x->id == NULL || u->n >= ITEMS_MAX) {
			x->bad = 1;
			return;
		}
		if (u->n == u->cap) {
			size_t ncap = u->cap ? 2 * u->cap : 16;

			if ((grown = realloc(u->v, ncap * sizeof(*grown))) ==
			    NULL) {
				x->bad = 1;
				return;
			}
			u->v = grown;
			u->cap = ncap;
		}
		u->v[u->n].key = x->key;
		u->v[u->n].initiated_ms = x->mtime_ms;
		u->v[u->n++].id = x->id;
		x->key = x->id = NULL;
		x->mtime_ms = 0;
	} else if (at(x, "IsTruncated", NULL)) {
		u->truncated = strcmp(x->text, "true") == 0;
	}
}

int
s3_xml_uploads(const char *xml, size_t len, struct s3_upload **out,
    size_t *n, int *truncated)
{
	struct uploads u = { NULL, 0, 0, 0 };
	struct xstate x;
	size_t i;
	int r;

	memset(&x, 0, sizeof(x));
	x.out = &u;
	x.on_end = uploads_end;
	r = parse(&x, xml, len);
	free(x.key);
	free(x.id);
	if (r != 0) {
		for (i = 0; i < u.n; i++) {
			free(u.v[i].key);
			free(u.v[i].id);
		}
		free(u.v);
		return -1;
	}
	*out = u.v;
	*n = u.n;
	*truncated = u.truncated;
	return 0;
}
