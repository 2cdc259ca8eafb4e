/*
 * The S3 backend: a repository under s3://BUCKET/PREFIX on any
 * S3-compatible server.
 *
 * Every request is signed with SigV4 (s3_sign.c) and the real SHA-256 of
 * its body is signed with it, so the server refuses an upload whose bytes
 * changed on the way.  For hash-named objects that digest is the name,
 * computed once when the object was made.  Requests run through the
 * transfer engine (s3_engine.c), at most `connections` at once.  Failures
 * that may pass (5xx, 429/503 SlowDown, timeouts, dropped connections, a
 * body cut short) are retried with exponential backoff and jitter, a
 * bounded number of times; then the error names the object, the HTTP
 * status and S3's error code.  Objects larger than the multipart threshold
 * are sent in parts; a multipart upload that fails is aborted, never left
 * dangling.  TLS is always verified.
 *
 * Every request with a body also carries its Content-MD5, signed: AWS
 * wants it on buckets with Object Lock, and a body damaged on the way is
 * refused twice over (BadDigest, XAmzContentSHA256Mismatch) and sent again.
 * Object Lock: a put may carry a retention (on CreateMultipartUpload for
 * multipart), PUT ?retention= extends one, HEAD reads it.  With as_of the
 * backend is a read-only view of a versioned bucket at that moment: each
 * type's versions are listed once (s3_asof.c decides which is visible) and
 * reads name the version (?versionId=).
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ini.h>
#include <sodium.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>

#include "backend_internal.h"
#include "s3_internal.h"

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_OBJECT ((size_t)2 << 30)
#define MAX_ANSWER (16U << 20)
#define MIN_PART (5U << 20)
/* The as-of view: versions asked for per page (S3's maximum), pages walked
 * per type at most (a server that never ends its listing stops there), and
 * objects kept per type (about 150 bytes each: 4M is 600 MB, a repository
 * of 64 TiB in 16 MiB packs). */
#define ASOF_PAGE 1000
#define ASOF_MAX_PAGES 100000
#define ASOF_MAX_OBJECTS ((size_t)4 << 20)
/* The longest repository prefix: S3 keys are at most 1,024 bytes, and
 * "/snapshots/" with a 64-digit name takes 75. */
#define S3_PREFIX_MAX 900

struct s3 {
	char *scheme_host;  /* "http://127.0.0.1:8080" */
	char *host;	    /* Host header: "127.0.0.1:8080" */
	char *bucket;
	char *prefix;	    /* "" or "a/b" (no slashes at the ends) */
	char *region;
	char *access_key;
	char *secret_key;   /* secure memory */
	char *session_token;
	int virtual_host;
	int attempts;	    /* tries per request */
	double backoff;	    /* first retry delay, seconds */
	size_t multipart;   /* objects larger than this go in parts */
	size_t part_size;
	long list_page;	    /* max-keys of a listing; 0: the server's */
	struct s3_engine *eng;
	/* The as-of view (as_of != 0): each type's visible versions, listed
	 * on first use under asof_mu, then read without it. */
	int64_t as_of;
	pthread_mutex_t asof_mu;
	int asof_mu_ok;
	struct s3_asof_map maps[GFSB_OBJ_NTYPES];
	int built[GFSB_OBJ_NTYPES];
};

static struct s3 *
S(struct gfsb_backend *be)
{
	return be->impl;
}

/* The object key of (type, name) under the prefix. */
static void
object_key(struct s3 *s, enum gfsb_obj type, const char *name, char *out,
    size_t len)
{
	const char *sep = s->prefix[0] ? "/" : "";

	if (type == GFSB_OBJ_CONFIG)
		snprintf(out, len, "%s%sconfig", s->prefix, sep);
	else if (type == GFSB_OBJ_PACK)
		snprintf(out, len, "%s%sdata/%.2s/%s", s->prefix, sep, name,
		    name);
	else
		snprintf(out, len, "%s%s%s/%s", s->prefix, sep,
		    gfsb_backend_type_name(type), name);
}

/* A request and what came back. */
struct req {
	const char *method;
	const char *key;	  /* object key, NULL for the bucket */
	const char *query;	  /* canonical query string, "" if none */
	const uint8_t *body;
	size_t body_len;
	const char *payload_hash; /* hex; NULL: computed from body */
	const char *range;
	uint8_t *dst;		  /* body into dst (exactly dst_cap bytes) */
	size_t dst_cap;
	struct gfsb_buf *resp;	  /* else appended here */
	size_t resp_cap;
	int no_retry_404;
	const struct gfsb_retention *ret; /* Object Lock headers to send */
	int einval_on_400;	  /* a 400 means a request we should not make */
	char md5[25];		  /* Content-MD5, computed once for all tries */
	/* results */
	long status;
	char code[64];
	char etag[128];
	uint64_t length;
	int64_t last_modified;
	char lock_mode[32];
	char lock_until[64];
	int overflow;		  /* the body was larger than resp_cap */
};

/* A request for key (NULL: the bucket) with query (NULL: none). */
static void
req_init(struct req *q, const char *method, const char *key,
    const char *query)
{
	memset(q, 0, sizeof(*q));
	q->method = method;
	q->key = key;
	q->query = query != NULL ? query : "";
}

static int
retryable(const struct s3_xfer *x)
{
	switch (x->curl_code) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_OUT_OF_MEMORY:
		return 0;
	case CURLE_WRITE_ERROR:
		return !x->overflow;
	default:
		return 1; /* connect, send, recv, timeouts, resets, partial */
	}
	return x->status >= 500 || x->status == 429 || x->status == 408;
}

/* The server refused a body that did not match its digests: damaged on
 * the way (the bytes we hold hashed right when the request was built), so
 * worth sending again. */
static int
damaged_body(const struct s3_xfer *x, const struct gfsb_buf *errbody)
{
	char code[64], msg[8];

	if (x->curl_code != CURLE_OK || x->status != 400)
		return 0;
	s3_xml_error((const char *)errbody->data, errbody->len, code,
	    sizeof(code), msg, sizeof(msg));
	return strcmp(code, "BadDigest") == 0 ||
	    strcmp(code, "XAmzContentSHA256Mismatch") == 0;
}

static void
sleep_backoff(struct s3 *s, int attempt)
{
	double d = s->backoff;
	struct timespec ts;
	uint32_t r;
	int i;

	for (i = 1; i < attempt && d < 20; i++)
		d *= 2;
	/* Full jitter over [d/2, d): many clients do not retry in step. */
	r = randombytes_uniform(1000);
	d = d / 2 + d / 2 * (double)r / 1000.0;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* Append "name: value" to the request's headers.  The line is built on
 * the heap, whatever its length (an STS session token is several KiB: a
 * fixed buffer cut it short while the signature covered it whole), and
 * wiped once curl has its copy.  -1: out of memory. */
static int
header_add(struct curl_slist **list, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	struct curl_slist *l;
	char *line;

	if ((line = malloc(n)) == NULL)
		return -1;
	/* "Name:" alone removes a header curl would add. */
	snprintf(line, n, *value ? "%s: %s" : "%s:", name, value);
	l = curl_slist_append(*list, line);
	sodium_memzero(line, n);
	free(line);
	if (l == NULL)
		return -1;
	*list = l;
	return 0;
}

static gfsb_err
build(struct s3 *s, struct req *q, struct s3_xfer *x, char *hash)
{
	char path[4096], enc[4096], url[8192], date[17], auth[1024],
	    until[32];
	int bad = 0;
	struct s3_header h[10];
	struct s3_sign_req sr;
	size_t nh = 0, i, first_extra;

	if (q->payload_hash != NULL) {
		snprintf(hash, 65, "%s", q->payload_hash);
	} else if (q->body_len > 0) {
		gfsb_crypto_sha256_hex(q->body, q->body_len, hash);
	} else {
		snprintf(hash, 65, "%s", EMPTY_SHA256);
	}
	/* Too long a key or query is refused, never sent cut short. */
	if ((s->virtual_host ? snprintf(path, sizeof(path), "/%s",
	    q->key ? q->key : "") : snprintf(path, sizeof(path), "/%s%s%s",
	    s->bucket, q->key ? "/" : "", q->key ? q->key : "")) >=
	    (int)sizeof(path) || s3_uri_encode(path, enc, sizeof(enc), 1) != 0 ||
	    snprintf(url, sizeof(url), "%s%s%s%s", s->scheme_host, enc,
	    q->query[0] ? "?" : "", q->query) >= (int)sizeof(url))
		return GFSB_EINVAL;
	s3_amz_date(date, 0);
	h[nh++] = (struct s3_header){ "host", s->host };
	h[nh++] = (struct s3_header){ "x-amz-content-sha256", hash };
	h[nh++] = (struct s3_header){ "x-amz-date", date };
	if (q->range != NULL)
		h[nh++] = (struct s3_header){ "range", q->range };
	if (s->session_token != NULL)
		h[nh++] = (struct s3_header){ "x-amz-security-token",
		    s->session_token };
	/* Signed like the rest: whoever alters them breaks the signature. */
	first_extra = nh;
	if (q->md5[0] != '\0')
		h[nh++] = (struct s3_header){ "content-md5", q->md5 };
	if (q->ret != NULL) {
		gfsb_backend_fmt_time(q->ret->until, until, sizeof(until));
		h[nh++] = (struct s3_header){ "x-amz-object-lock-mode",
		    q->ret->mode == GFSB_LOCK_COMPLIANCE ? "COMPLIANCE" :
		    "GOVERNANCE" };
		h[nh++] = (struct s3_header){
		    "x-amz-object-lock-retain-until-date", until };
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = q->method;
	sr.path = enc;
	sr.query = q->query;
	sr.payload_hash = hash;
	sr.amz_date = date;
	sr.region = s->region;
	sr.access_key = s->access_key;
	sr.secret_key = s->secret_key;
	sr.h = h;
	sr.nh = nh;
	if (s3_sign(&sr, auth, sizeof(auth)) != 0)
		return GFSB_EINVAL;
	if ((x->url = strdup(url)) == NULL)
		return GFSB_ENOMEM;
	x->headers = NULL;
	bad |= header_add(&x->headers, "Authorization", auth);
	bad |= header_add(&x->headers, "x-amz-content-sha256", hash);
	bad |= header_add(&x->headers, "x-amz-date", date);
	if (q->range != NULL)
		bad |= header_add(&x->headers, "Range", q->range);
	if (s->session_token != NULL)
		bad |= header_add(&x->headers, "x-amz-security-token",
		    s->session_token);
	for (i = first_extra; i < nh; i++)
		bad |= header_add(&x->headers, h[i].name, h[i].value);
	/* No 100-continue round trip, no form content type on POST. */
	bad |= header_add(&x->headers, "Expect", "");
	if (strcmp(q->method, "POST") == 0)
		bad |= header_add(&x->headers, "Content-Type",
		    "application/xml");
	sodium_memzero(auth, sizeof(auth));
	if (bad)
		return GFSB_ENOMEM;
	x->method = q->method;
	x->body = q->body ? q->body : (const uint8_t *)"";
	x->body_len = q->body_len;
	x->dst = q->dst;
	x->dst_cap = q->dst_cap;
	x->resp = q->resp;
	x->resp_cap = q->resp_cap;
	return GFSB_OK;
}

static void
xfer_fini(struct s3_xfer *x)
{
	free(x->url);
	curl_slist_free_all(x->headers);
	x->url = NULL;
	x->headers = NULL;
}

static gfsb_err
fail_msg(struct gfsb_backend *be, struct req *q, struct s3_xfer *x,
    struct gfsb_buf *body, int tries)
{
	struct s3 *s = S(be);
	char msg[256] = "", what[512];
	gfsb_err e;

	snprintf(what, sizeof(what), "%s s3://%s/%s", q->method, s->bucket,
	    q->key ? q->key : "");
	if (x->curl_code != CURLE_OK)
		return gfsb_ctx_seterr(be->ctx, GFSB_ENET, "%s: %s (after %d "
		    "%s)", what, x->errbuf[0] ? x->errbuf :
		    curl_easy_strerror((CURLcode)x->curl_code), tries,
		    tries == 1 ? "try" : "tries");
	if (body != NULL)
		s3_xml_error((const char *)body->data, body->len, q->code,
		    sizeof(q->code), msg, sizeof(msg));
	if (x->status == 403 || x->status == 401)
		e = GFSB_EDENIED;
	else if (strcmp(q->code, "NoSuchBucket") == 0)
		e = GFSB_ENOREPO;
	else if (x->status == 404)
		e = GFSB_ENOTFOUND;
	else if (x->status == 416)
		e = GFSB_ECORRUPT;
	else if (x->status == 400 && q->einval_on_400)
		e = GFSB_EINVAL;
	else
		e = GFSB_ENET;
	if (e == GFSB_ENOTFOUND)
		return gfsb_ctx_seterr(be->ctx, e, "%s: not found", what);
	if (e == GFSB_EDENIED && q->code[0] == '\0')
		return gfsb_ctx_seterr(be->ctx, e, "%s: HTTP %ld: access "
		    "denied (check the S3 credentials and the bucket's "
		    "permissions)", what, x->status);
	if (e == GFSB_EINVAL && q->ret != NULL)
		return gfsb_ctx_seterr(be->ctx, e, "%s: HTTP %ld %s%s%s: Object "
		    "Lock refused (is Object Lock enabled on bucket %s?)",
		    what, x->status, q->code, msg[0] ? ": " : "", msg,
		    s->bucket);
	/* What the server said and how often it was asked: an operator
	 * must tell a storage outage from anything the data did. */
	return gfsb_ctx_seterr(be->ctx, e, "%s: HTTP %ld%s%s%s%s (after %d "
	    "%s)", what, x->status, q->code[0] ? " " : "", q->code,
	    msg[0] ? ": " : "", msg, tries, tries == 1 ? "try" : "tries");
}

/*
 * Run one request, retrying what may pass.  2xx is success; the error
 * names the object, the status and S3's code.
 */
static gfsb_err
run_req(struct gfsb_backend *be, struct req *q)
{
	struct s3 *s = S(be);
	struct s3_xfer x;
	struct gfsb_buf errbody;
	char hash[65];
	int attempt;
	gfsb_err e;

	gfsb_buf_init(&errbody);
	q->code[0] = '\0';
	/* Content-MD5 on every upload and every XML body (AWS refuses
	 * uploads to buckets with default retention without it). */
	if ((q->body_len > 0 || (strcmp(q->method, "PUT") == 0 &&
	    q->key != NULL)) && s3_content_md5(q->body ? q->body :
	    (const uint8_t *)"", q->body_len, q->md5) != 0)
		return gfsb_ctx_seterr(be->ctx, GFSB_EUNSUPPORTED, "cannot "
		    "compute the Content-MD5 of %s: this OpenSSL has no MD5 "
		    "(FIPS mode?)", q->key ? q->key : s->bucket);
	for (attempt = 1;; attempt++) {
		memset(&x, 0, sizeof(x));
		if (q->resp != NULL)
			q->resp->len = 0;
		if ((e = build(s, q, &x, hash)) != GFSB_OK) {
			xfer_fini(&x);
			return gfsb_ctx_seterr(be->ctx, e, "cannot build the "
			    "request for %s", q->key ? q->key : s->bucket);
		}
		/* Error answers go to errbody, never into the caller's. */
		errbody.len = 0;
		x.errbody = &errbody;
		s3_engine_submit(s->eng, &x);
		s3_engine_wait(s->eng, &x);
		xfer_fini(&x);
		q->status = x.status;
		q->overflow = x.overflow;
		memcpy(q->etag, x.etag, sizeof(q->etag));
		q->length = x.have_length ? x.content_length : 0;
		q->last_modified = x.last_modified;
		memcpy(q->lock_mode, x.lock_mode, sizeof(q->lock_mode));
		memcpy(q->lock_until, x.lock_until, sizeof(q->lock_until));
		if (x.curl_code == CURLE_OK && x.status >= 200 &&
		    x.status < 300) {
			/* A body cut short is a dropped connection too. */
			if (q->dst != NULL && x.dst_len != q->dst_cap &&
			    strcmp(q->method, "GET") == 0) {
				x.curl_code = CURLE_PARTIAL_FILE;
			} else {
				gfsb_buf_fini(&errbody);
				return GFSB_OK;
			}
		}
		if ((!retryable(&x) && !damaged_body(&x, &errbody)) ||
		    attempt >= s->attempts)
			break;
		gfsb_ctx_log(be->ctx, GFSB_LOG_DEBUG, "%s %s: %s %ld; retrying",
		    q->method, q->key ? q->key : s->bucket,
		    x.curl_code ? curl_easy_strerror((CURLcode)x.curl_code) :
		    "HTTP", x.status);
		sleep_backoff(s, attempt);
	}
	e = fail_msg(be, q, &x, &errbody, attempt);
	gfsb_buf_fini(&errbody);
	return e;
}

/* ---- multipart ---- */

static gfsb_err
abort_upload(struct gfsb_backend *be, const char *key, const char *id)
{
	char query[600], enc[512];
	struct req q;

	if (s3_uri_encode(id, enc, sizeof(enc), 0) != 0)
		return GFSB_EINVAL;
	snprintf(query, sizeof(query), "uploadId=%s", enc);
	req_init(&q, "DELETE", key, query);
	return run_req(be, &q);
}

/*
 * Upload p[0..n) in parts, several at once through the engine.  The whole
 * object's digest was checked by the caller's naming; each part is signed
 * with its own digest, so a corrupted part is refused too.
 */
static gfsb_err
put_multipart(struct gfsb_backend *be, const char *key, const uint8_t *p,
    size_t n, const struct gfsb_retention *ret)
{
	struct s3 *s = S(be);
	struct gfsb_buf answer, xml;
	char id[512], enc[1600], query[2048];
	char (*etags)[128] = NULL;
	struct req q;
	size_t parts, i;
	uint64_t size;
	gfsb_err e;

	gfsb_buf_init(&answer);
	gfsb_buf_init(&xml);
	/* The object's retention goes on its creation, as with a PUT. */
	req_init(&q, "POST", key, "uploads=");
	q.ret = ret;
	q.einval_on_400 = ret != NULL;
	q.resp = &answer;
	q.resp_cap = MAX_ANSWER;
	if ((e = run_req(be, &q)) != GFSB_OK)
		goto out;
	if (s3_xml_upload_id((const char *)answer.data, answer.len, id,
	    sizeof(id)) != 0 || s3_uri_encode(id, enc, sizeof(enc), 0) != 0) {
		e = gfsb_ctx_seterr(be->ctx, GFSB_ENET,
		    "s3://%s/%s: no upload id in the answer", s->bucket, key);
		goto out;
	}
	parts = (n + s->part_size - 1) / s->part_size;
	if ((etags = calloc(parts, sizeof(*etags))) == NULL) {
		e = GFSB_ENOMEM;
		goto abort;
	}
	/* Parts go one at a time from this thread; other threads' objects
	 * keep the connections busy meanwhile. */
	for (i = 0; i < parts; i++) {
		size_t off = i * s->part_size;
		size_t len = n - off < s->part_size ? n - off : s->part_size;

		snprintf(query, sizeof(query), "partNumber=%zu&uploadId=%s",
		    i + 1, enc);
		req_init(&q, "PUT", key, query);
		q.body = p + off;
		q.body_len = len;
		if ((e = run_req(be, &q)) != GFSB_OK)
			goto abort;
		snprintf(etags[i], sizeof(etags[i]), "%s", q.etag);
	}
	if ((e = gfsb_buf_append(&xml, "<CompleteMultipartUpload>", 25)) !=
	    GFSB_OK)
		goto abort;
	for (i = 0; i < parts; i++) {
		char part[256];
		int len = snprintf(part, sizeof(part), "<Part><PartNumber>%zu"
		    "</PartNumber><ETag>\"%s\"</ETag></Part>", i + 1,
		    etags[i]);

		if ((e = gfsb_buf_append(&xml, part, (size_t)len)) != GFSB_OK)
			goto abort;
	}
	if ((e = gfsb_buf_append(&xml, "</CompleteMultipartUpload>", 26)) !=
	    GFSB_OK)
		goto abort;
	snprintf(query, sizeof(query), "uploadId=%s", enc);
	req_init(&q, "POST", key, query);
	q.body = xml.data;
	q.body_len = xml.len;
	q.resp = &answer;
	q.resp_cap = MAX_ANSWER;
	if ((e = run_req(be, &q)) != GFSB_OK)
		goto abort;
	/* A 200 can still carry an error; and some servers answer without
	 * an ETag: check that the object is there, whole. */
	if (answer.len > 0 && memmem(answer.data, answer.len, "<Error>", 7) !=
	    NULL) {
		e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "s3://%s/%s: completing "
		    "the multipart upload failed", s->bucket, key);
		goto abort;
	}
	req_init(&q, "HEAD", key, NULL);
	if ((e = run_req(be, &q)) != GFSB_OK)
		goto out;
	size = q.length;
	if (size != n)
		e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "s3://%s/%s: %llu "
		    "bytes stored of %zu", s->bucket, key,
		    (unsigned long long)size, n);
	goto out;
abort:
	/* Never leave a multipart upload behind. */
	if (abort_upload(be, key, id) != GFSB_OK)
		gfsb_ctx_log(be->ctx, GFSB_LOG_WARN, "cannot abort the multipart "
		    "upload of %s; `prune` aborts leftovers", key);
out:
	free(etags);
	gfsb_buf_fini(&answer);
	gfsb_buf_fini(&xml);
	return e;
}

/* ---- operations ---- */

static gfsb_err
s3_put(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    const uint8_t *p, size_t n, const struct gfsb_retention *ret)
{
	struct s3 *s = S(be);
	char key[2048];
	struct req q;

	object_key(s, type, name, key, sizeof(key));
	if (n > s->multipart && n > MIN_PART)
		return put_multipart(be, key, p, n, ret);
	req_init(&q, "PUT", key, NULL);
	q.body = p;
	q.body_len = n;
	/* A 400 to lock headers: the bucket has no Object Lock. */
	q.ret = ret;
	q.einval_on_400 = ret != NULL;
	/* The name of a hash-named object is its digest: sign it as is. */
	if (type != GFSB_OBJ_CONFIG)
		q.payload_hash = name;
	return run_req(be, &q);
}

/* ---- the as-of view ---- */

static gfsb_err asof_lookup(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, const struct s3_asof_ent **out);

/*
 * The query string that names the object's version: "" now, else
 * "versionId=..." of the version visible at the moment (GFSB_ENOTFOUND if
 * none was).  The id is percent-encoded: the signature covers the query as
 * sent.
 */
static gfsb_err
version_query(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    char *query, size_t len)
{
	const struct s3_asof_ent *v;
	char enc[3 * 1024 + 1];
	gfsb_err e;

	query[0] = '\0';
	if (S(be)->as_of == 0)
		return GFSB_OK;
	if ((e = asof_lookup(be, type, name, &v)) != GFSB_OK)
		return e;
	if (s3_uri_encode(v->version_id, enc, sizeof(enc), 0) != 0 ||
	    snprintf(query, len, "versionId=%s", enc) >= (int)len)
		return gfsb_ctx_seterr(be->ctx, GFSB_ENET, "%s/%s: version id "
		    "too long", gfsb_backend_type_name(type), name);
	return GFSB_OK;
}

static gfsb_err
s3_get(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    size_t max, struct gfsb_buf *out)
{
	char key[2048], query[4096];
	struct gfsb_buf tmp;
	struct req q;
	gfsb_err e;

	if ((e = version_query(be, type, name, query, sizeof(query))) !=
	    GFSB_OK)
		return e;
	gfsb_buf_init(&tmp);
	object_key(S(be), type, name, key, sizeof(key));
	req_init(&q, "GET", key, query);
	q.resp = &tmp;
	q.resp_cap = max < MAX_OBJECT ? max : MAX_OBJECT;
	e = run_req(be, &q);
	if (e != GFSB_OK && q.overflow && max < MAX_OBJECT) {
		gfsb_ctx_clearerr(be->ctx);
		e = be_too_large(be, type, name, max);
	}
	if (e == GFSB_OK)
		e = gfsb_buf_append(out, tmp.data, tmp.len);
	gfsb_buf_fini(&tmp);
	return e;
}

static gfsb_err
s3_read(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    uint64_t off, uint8_t *dst, size_t n)
{
	char key[2048], range[64], query[4096];
	struct req q;
	gfsb_err e;

	if (n == 0)
		return GFSB_OK;
	if ((e = version_query(be, type, name, query, sizeof(query))) !=
	    GFSB_OK)
		return e;
	object_key(S(be), type, name, key, sizeof(key));
	snprintf(range, sizeof(range), "bytes=%llu-%llu",
	    (unsigned long long)off, (unsigned long long)(off + n - 1));
	req_init(&q, "GET", key, query);
	q.range = range;
	q.dst = dst;
	q.dst_cap = n;
	e = run_req(be, &q);
	if (e == GFSB_OK && q.status != 206 && !(q.status == 200 && off == 0))
		e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "%s: the server "
		    "ignored the byte range", key);
	return e;
}

/* HEAD the object (the version that query names), into *q; on failure,
 * find out why as well as a HEAD's missing body allows. */
static gfsb_err
head_obj(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    const char *query, struct req *qq)
{
	char key[2048];
	struct req q;
	gfsb_err e;

	object_key(S(be), type, name, key, sizeof(key));
	req_init(qq, "HEAD", key, query);
	e = run_req(be, qq);
	qq->key = NULL; /* key is ours */
	if (e == GFSB_OK)
		return GFSB_OK;
	if (e == GFSB_ENOTFOUND && type == GFSB_OBJ_CONFIG) {
		/* HEAD has no body: ask the bucket why. */
		req_init(&q, "HEAD", NULL, NULL);
		gfsb_ctx_clearerr(be->ctx);
		if (run_req(be, &q) == GFSB_ENOTFOUND) {
			gfsb_ctx_clearerr(be->ctx);
			return gfsb_ctx_seterr(be->ctx, GFSB_ENOREPO,
			    "bucket %s does not exist at %s", S(be)->bucket,
			    S(be)->scheme_host);
		}
		gfsb_ctx_clearerr(be->ctx);
		return GFSB_ENOTFOUND;
	}
	if (e == GFSB_EDENIED) {
		/* HEAD has no body: a one-byte GET tells which S3 error
		 * (InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied). */
		struct gfsb_buf body;
		char first[512];

		snprintf(first, sizeof(first), "%s", gfsb_ctx_errmsg(be->ctx));
		gfsb_buf_init(&body);
		req_init(&q, "GET", key, query);
		q.range = "bytes=0-0";
		q.resp = &body;
		q.resp_cap = 64 << 10;
		gfsb_ctx_clearerr(be->ctx);
		e = run_req(be, &q);
		gfsb_buf_fini(&body);
		if (e != GFSB_EDENIED || q.code[0] == '\0') {
			gfsb_ctx_clearerr(be->ctx);
			e = gfsb_ctx_seterr(be->ctx, GFSB_EDENIED, "%s", first);
		}
	}
	return e;
}

static gfsb_err
s3_stat(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    uint64_t *size)
{
	const struct s3_asof_ent *v;
	struct req q;
	gfsb_err e;

	/* The listing of versions already said. */
	if (S(be)->as_of != 0) {
		if ((e = asof_lookup(be, type, name, &v)) != GFSB_OK)
			return e;
		*size = v->size;
		return GFSB_OK;
	}
	if ((e = head_obj(be, type, name, NULL, &q)) == GFSB_OK)
		*size = q.length;
	return e;
}

static gfsb_err
s3_remove(struct gfsb_backend *be, enum gfsb_obj type, const char *name)
{
	char key[2048];
	struct req q;

	object_key(S(be), type, name, key, sizeof(key));
	req_init(&q, "DELETE", key, NULL);
	return run_req(be, &q);
}

/* The name of the object at key, for a listing of type under pfx (its
 * plen bytes): NULL for a key that is not one of ours. */
static const char *
key_name(enum gfsb_obj type, const char *key, const char *pfx, size_t plen)
{
	const char *name, *slash;

	if (strncmp(key, pfx, plen) != 0)
		return NULL;
	name = key + plen;
	if (type == GFSB_OBJ_PACK && (slash = strchr(name, '/')) != NULL)
		name = slash + 1;
	return gfsb_backend_name_ok(type, name) ? name : NULL;
}

static gfsb_err asof_list(struct gfsb_backend *be, enum gfsb_obj type,
    be_list_fn *fn, void *cookie);

static gfsb_err
s3_list(struct gfsb_backend *be, enum gfsb_obj type, be_list_fn *fn,
    void *cookie)
{
	struct s3 *s = S(be);
	char pfx[2048], epfx[4096], etok[4096], query[8192], maxkeys[32] = "";
	const char *name;
	struct s3_list_page pg;
	struct gfsb_buf ans;
	char *token = NULL;
	struct req q;
	size_t i, plen;
	gfsb_err e = GFSB_OK;

	if (s->as_of != 0)
		return asof_list(be, type, fn, cookie);
	if (type == GFSB_OBJ_CONFIG) {
		if ((e = head_obj(be, type, "config", NULL, &q)) == GFSB_OK)
			return fn(cookie, "config", q.length, q.last_modified);
		gfsb_ctx_clearerr(be->ctx);
		return e == GFSB_ENOTFOUND || e == GFSB_ENOREPO ? GFSB_OK : e;
	}
	gfsb_buf_init(&ans);
	/* Pages of the server's size (1000 on AWS); smaller on request, so
	 * that tests walk many pages of a real server's listing. */
	if (s->list_page > 0)
		snprintf(maxkeys, sizeof(maxkeys), "&max-keys=%ld",
		    s->list_page);
	snprintf(pfx, sizeof(pfx), "%s%s%s/", s->prefix, s->prefix[0] ? "/" :
	    "", gfsb_backend_type_name(type));
	plen = strlen(pfx);
	if (s3_uri_encode(pfx, epfx, sizeof(epfx), 0) != 0)
		return GFSB_EINVAL;
	do {
		/* Parameters sorted, as the signature wants them. */
		if (token != NULL) {
			if (s3_uri_encode(token, etok, sizeof(etok), 0) != 0) {
				e = GFSB_EINVAL;
				break;
			}
			if (snprintf(query, sizeof(query), "continuation-"
			    "token=%s&list-type=2%s&prefix=%s", etok, maxkeys,
			    epfx) >= (int)sizeof(query)) {
				e = GFSB_EINVAL;
				break;
			}
		} else {
			snprintf(query, sizeof(query), "list-type=2%s&prefix=%s",
			    maxkeys, epfx);
		}
		req_init(&q, "GET", NULL, query);
		q.resp = &ans;
		q.resp_cap = MAX_ANSWER;
		if ((e = run_req(be, &q)) != GFSB_OK)
			break;
		if (s3_xml_list((const char *)ans.data, ans.len, &pg) != 0) {
			e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "s3://%s/%s: "
			    "malformed listing", s->bucket, pfx);
			break;
		}
		for (i = 0; i < pg.n && e == GFSB_OK; i++) {
			if ((name = key_name(type, pg.items[i].key, pfx,
			    plen)) == NULL)
				continue; /* not ours */
			e = fn(cookie, name, pg.items[i].size,
			    pg.items[i].mtime_ms / 1000);
		}
		free(token);
		token = pg.truncated ? pg.next_token : NULL;
		pg.next_token = NULL;
		s3_xml_list_fini(&pg);
	} while (e == GFSB_OK && token != NULL);
	free(token);
	gfsb_buf_fini(&ans);
	return e;
}

/*
 * Abort the multipart uploads a killed process left under the prefix
 * (each holds its parts' storage, billed, until aborted).  Aborted ones
 * leave the listing, so it is read again until it is not truncated.
 */
static gfsb_err
s3_cleanup(struct gfsb_backend *be, int64_t before, uint64_t *removed)
{
	struct s3 *s = S(be);
	char pfx[2048], epfx[4096], query[4200];
	struct s3_upload *ups = NULL;
	struct gfsb_buf ans;
	struct req q;
	size_t n = 0, i, plen, aborted;
	int truncated = 1, rounds;
	gfsb_err e = GFSB_OK;

	snprintf(pfx, sizeof(pfx), "%s%s", s->prefix, s->prefix[0] ? "/" :
	    "");
	plen = strlen(pfx);
	if (s3_uri_encode(pfx, epfx, sizeof(epfx), 0) != 0)
		return GFSB_EINVAL;
	snprintf(query, sizeof(query), "prefix=%s&uploads=", epfx);
	gfsb_buf_init(&ans);
	for (rounds = 0; truncated && rounds < 1000 && e == GFSB_OK;
	    rounds++) {
		req_init(&q, "GET", NULL, query);
		q.resp = &ans;
		q.resp_cap = MAX_ANSWER;
		ans.len = 0;
		if ((e = run_req(be, &q)) != GFSB_OK)
			break;
		if (s3_xml_uploads((const char *)ans.data, ans.len, &ups, &n,
		    &truncated) != 0) {
			e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "s3://%s/%s: "
			    "malformed list of multipart uploads", s->bucket,
			    pfx);
			break;
		}
		for (i = 0, aborted = 0; i < n && e == GFSB_OK; i++) {
			/* Ours, and begun before `before` (an upload the
			 * server does not date is as old as can be). */
			if (strncmp(ups[i].key, pfx, plen) != 0 ||
			    ups[i].initiated_ms / 1000 >= before)
				continue;
			e = abort_upload(be, ups[i].key, ups[i].id);
			if (e == GFSB_ENOTFOUND) { /* finished meanwhile */
				gfsb_ctx_clearerr(be->ctx);
				e = GFSB_OK;
				continue;
			}
			if (e == GFSB_OK) {
				aborted++;
				(*removed)++;
			}
		}
		for (i = 0; i < n; i++) {
			free(ups[i].key);
			free(ups[i].id);
		}
		free(ups);
		ups = NULL;
		if (aborted == 0)
			break; /* nothing of ours on this page: stop */
	}
	gfsb_buf_fini(&ans);
	return e;
}

static gfsb_err
s3_create(struct gfsb_backend *be)
{
	struct req q;
	uint64_t size;
	gfsb_err e;

	/* The bucket: create it if it is not there, as restic does. */
	req_init(&q, "HEAD", NULL, NULL);
	e = run_req(be, &q);
	if (e == GFSB_ENOTFOUND) {
		gfsb_ctx_clearerr(be->ctx);
		req_init(&q, "PUT", NULL, NULL);
		if ((e = run_req(be, &q)) != GFSB_OK)
			return e;
	} else if (e != GFSB_OK) {
		return e;
	}
	e = s3_stat(be, GFSB_OBJ_CONFIG, "config", &size);
	if (e == GFSB_OK)
		return GFSB_EEXIST;
	if (e == GFSB_ENOTFOUND) {
		gfsb_ctx_clearerr(be->ctx);
		return GFSB_OK;
	}
	return e;
}


/* ---- Object Lock and versioning ---- */

static const char *
mode_name(enum gfsb_lock_mode m)
{
	return m == GFSB_LOCK_COMPLIANCE ? "COMPLIANCE" : "GOVERNANCE";
}

/*
 * PutObjectRetention on the current version.  S3 refuses to shorten a
 * COMPLIANCE lock (or a GOVERNANCE one without the bypass header, which we
 * never send): 403 AccessDenied, passed on as GFSB_EDENIED with S3's code
 * and message.
 */
static gfsb_err
s3_retention_set(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, const struct gfsb_retention *ret)
{
	char key[2048], body[512];
	struct gfsb_buf ans;
	struct req q;
	int n;
	gfsb_err e;

	if ((n = s3_xml_retention_body(mode_name(ret->mode), ret->until, body,
	    sizeof(body))) < 0)
		return GFSB_EINVAL;
	object_key(S(be), type, name, key, sizeof(key));
	gfsb_buf_init(&ans);
	req_init(&q, "PUT", key, "retention=");
	q.body = (const uint8_t *)body;
	q.body_len = (size_t)n;
	q.einval_on_400 = 1;
	q.resp = &ans;
	q.resp_cap = 64 << 10;
	e = run_req(be, &q);
	gfsb_buf_fini(&ans);
	return e;
}

/* The retention in a HEAD's headers; none -> NONE.  -1 if malformed. */
int
s3_lock_headers(const char *mode, const char *until,
    struct gfsb_retention *out)
{
	int64_t ms;

	memset(out, 0, sizeof(*out));
	if (mode[0] == '\0' && until[0] == '\0')
		return 0;
	if (strcmp(mode, "COMPLIANCE") == 0)
		out->mode = GFSB_LOCK_COMPLIANCE;
	else if (strcmp(mode, "GOVERNANCE") == 0)
		out->mode = GFSB_LOCK_GOVERNANCE;
	else
		return -1;
	if (s3_parse_time_ms(until, &ms) != 0 || ms <= 0)
		return -1;
	out->until = ms / 1000;
	return 0;
}

static gfsb_err
s3_retention_get(struct gfsb_backend *be, enum gfsb_obj type,
    const char *name, struct gfsb_retention *out)
{
	char query[4096];
	struct gfsb_retention r;
	struct req q;
	gfsb_err e;

	if ((e = version_query(be, type, name, query, sizeof(query))) !=
	    GFSB_OK || (e = head_obj(be, type, name, query, &q)) != GFSB_OK)
		return e;
	if (s3_lock_headers(q.lock_mode, q.lock_until, &r) != 0)
		return gfsb_ctx_seterr(be->ctx, GFSB_ENET, "s3://%s: %s/%s: "
		    "malformed Object Lock headers (mode \"%.32s\", until "
		    "\"%.64s\")", S(be)->bucket, gfsb_backend_type_name(type),
		    name, q.lock_mode, q.lock_until);
	*out = r;
	return GFSB_OK;
}

/* GET /BUCKET?SUB= into ans. */
static gfsb_err
bucket_get(struct gfsb_backend *be, const char *sub, struct gfsb_buf *ans,
    struct req *q)
{
	req_init(q, "GET", NULL, sub);
	q->resp = ans;
	q->resp_cap = 1 << 20;
	return run_req(be, q);
}

static gfsb_err
s3_lock_enabled(struct gfsb_backend *be, int *enabled)
{
	struct gfsb_buf ans;
	struct req q;
	int on = 0;
	gfsb_err e;

	gfsb_buf_init(&ans);
	e = bucket_get(be, "object-lock=", &ans, &q);
	if (e == GFSB_ENOTFOUND &&
	    strcmp(q.code, "ObjectLockConfigurationNotFoundError") == 0) {
		gfsb_ctx_clearerr(be->ctx);
		e = GFSB_OK; /* never configured: no lock */
	} else if (e == GFSB_OK && s3_xml_lock_config((const char *)ans.data,
	    ans.len, &on) != 0) {
		e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "s3://%s: malformed "
		    "Object Lock configuration", S(be)->bucket);
	}
	gfsb_buf_fini(&ans);
	if (e == GFSB_OK)
		*enabled = on;
	return e;
}

static gfsb_err
s3_versioning(struct gfsb_backend *be, int *state)
{
	struct gfsb_buf ans;
	struct req q;
	int st = 0;
	gfsb_err e;

	gfsb_buf_init(&ans);
	if ((e = bucket_get(be, "versioning=", &ans, &q)) == GFSB_OK &&
	    s3_xml_versioning((const char *)ans.data, ans.len, &st) != 0)
		e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "s3://%s: malformed "
		    "versioning configuration", S(be)->bucket);
	gfsb_buf_fini(&ans);
	if (e == GFSB_OK)
		*state = st;
	return e;
}

/* ---- the as-of view: listing versions ---- */

/*
 * List every version and delete marker under type's prefix (the exact key
 * PREFIX/config for the config), page by page, and keep in m the version
 * of each object that was visible at the moment.
 */
static gfsb_err
asof_build(struct gfsb_backend *be, enum gfsb_obj type,
    struct s3_asof_map *m)
{
	struct s3 *s = S(be);
	char pfx[2048], epfx[4096], ekey[4096], evid[3200], query[12000],
	    maxkeys[32], want[2048];
	char *kmark = NULL, *vmark = NULL;
	const char *name;
	struct s3_version_page pg;
	struct gfsb_buf ans;
	struct req q;
	size_t i, plen, pages;
	int r;
	gfsb_err e = GFSB_OK;

	s3_asof_init(m, s->as_of * 1000, ASOF_MAX_OBJECTS);
	if (type == GFSB_OBJ_CONFIG)
		object_key(s, type, "config", pfx, sizeof(pfx));
	else
		snprintf(pfx, sizeof(pfx), "%s%s%s/", s->prefix,
		    s->prefix[0] ? "/" : "", gfsb_backend_type_name(type));
	plen = strlen(pfx);
	if (s3_uri_encode(pfx, epfx, sizeof(epfx), 0) != 0)
		return GFSB_EINVAL;
	snprintf(maxkeys, sizeof(maxkeys), "%ld", s->list_page > 0 ?
	    s->list_page : ASOF_PAGE);
	gfsb_buf_init(&ans);
	for (pages = 0; e == GFSB_OK; pages++) {
		if (pages >= ASOF_MAX_PAGES) {
			e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "s3://%s/%s: "
			    "more than %d pages of versions: giving up",
			    s->bucket, pfx, ASOF_MAX_PAGES);
			break;
		}
		/* Parameters sorted, as the signature wants them. */
		ekey[0] = evid[0] = '\0';
		if ((kmark != NULL && s3_uri_encode(kmark, ekey, sizeof(ekey),
		    0) != 0) || (vmark != NULL && s3_uri_encode(vmark, evid,
		    sizeof(evid), 0) != 0)) {
			e = GFSB_EINVAL;
			break;
		}
		snprintf(query, sizeof(query), "%s%s%smax-keys=%s&prefix=%s"
		    "%s%s&versions=", kmark ? "key-marker=" : "", ekey,
		    kmark ? "&" : "", maxkeys, epfx,
		    vmark ? "&version-id-marker=" : "", evid);
		req_init(&q, "GET", NULL, query);
		q.resp = &ans;
		q.resp_cap = MAX_ANSWER;
		if ((e = run_req(be, &q)) != GFSB_OK)
			break;
		if (s3_xml_versions((const char *)ans.data, ans.len,
		    (size_t)(10 * ASOF_PAGE), &pg) != 0) {
			e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "s3://%s/%s: "
			    "malformed listing of versions", s->bucket, pfx);
			break;
		}
		for (i = 0, r = 0; i < pg.n && r == 0; i++) {
			if (type == GFSB_OBJ_CONFIG)
				name = "config";
			else
				name = key_name(type, pg.v[i].key, pfx, plen);
			/* Exactly where we would put it, or not ours (the
			 * reads ask for that key). */
			if (name == NULL)
				continue;
			object_key(s, type, name, want, sizeof(want));
			if (strcmp(pg.v[i].key, want) != 0)
				continue;
			r = s3_asof_offer(m, name, pg.v[i].version_id,
			    pg.v[i].size, pg.v[i].mtime_ms,
			    pg.v[i].is_marker);
		}
		if (r != 0) {
			s3_xml_versions_fini(&pg);
			e = r == -1 ? GFSB_ENOMEM : gfsb_ctx_seterr(be->ctx,
			    GFSB_ENOMEM, "s3://%s/%s: more than %zu objects "
			    "in the view as of the moment", s->bucket, pfx,
			    (size_t)ASOF_MAX_OBJECTS);
			break;
		}
		if (!pg.truncated) {
			s3_xml_versions_fini(&pg);
			break;
		}
		/* A server that does not move on would be asked forever. */
		if (kmark != NULL && strcmp(kmark, pg.next_key) == 0 &&
		    ((vmark == NULL && pg.next_version == NULL) ||
		    (vmark != NULL && pg.next_version != NULL &&
		    strcmp(vmark, pg.next_version) == 0))) {
			s3_xml_versions_fini(&pg);
			e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "s3://%s/%s: the "
			    "listing of versions does not advance", s->bucket,
			    pfx);
			break;
		}
		free(kmark);
		free(vmark);
		kmark = pg.next_key;
		vmark = pg.next_version != NULL && pg.next_version[0] != '\0' ?
		    pg.next_version : NULL;
		if (vmark == NULL)
			free(pg.next_version);
		pg.next_key = pg.next_version = NULL;
		s3_xml_versions_fini(&pg);
	}
	free(kmark);
	free(vmark);
	gfsb_buf_fini(&ans);
	if (e != GFSB_OK) {
		s3_asof_fini(m);
		return e;
	}
	s3_asof_finish(m);
	return GFSB_OK;
}

/* type's map, listed on first use; then never changed until close. */
static gfsb_err
asof_map(struct gfsb_backend *be, enum gfsb_obj type,
    const struct s3_asof_map **out)
{
	struct s3 *s = S(be);
	gfsb_err e = GFSB_OK;

	if ((unsigned)type >= GFSB_OBJ_NTYPES)
		return gfsb_ctx_seterr(be->ctx, GFSB_EINVAL, "unknown object "
		    "type %d", (int)type);
	pthread_mutex_lock(&s->asof_mu);
	if (!s->built[type] && (e = asof_build(be, type, &s->maps[type])) ==
	    GFSB_OK)
		s->built[type] = 1;
	pthread_mutex_unlock(&s->asof_mu);
	if (e == GFSB_OK)
		*out = &s->maps[type];
	return e;
}

static gfsb_err
asof_lookup(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    const struct s3_asof_ent **out)
{
	const struct s3_asof_map *m = NULL;	/* -O3 cannot tell it is set */
	char when[32];
	gfsb_err e;

	if ((e = asof_map(be, type, &m)) != GFSB_OK)
		return e;
	if ((*out = s3_asof_find(m, name)) != NULL)
		return GFSB_OK;
	gfsb_backend_fmt_time(S(be)->as_of, when, sizeof(when));
	return gfsb_ctx_seterr(be->ctx, GFSB_ENOTFOUND, "%s/%s: not found as "
	    "of %s", gfsb_backend_type_name(type), name, when);
}

static gfsb_err
asof_list(struct gfsb_backend *be, enum gfsb_obj type, be_list_fn *fn,
    void *cookie)
{
	const struct s3_asof_map *m = NULL;	/* -O3 cannot tell it is set */
	size_t i;
	gfsb_err e;

	if ((e = asof_map(be, type, &m)) != GFSB_OK)
		return e;
	for (i = 0; i < m->n && e == GFSB_OK; i++)
		e = fn(cookie, m->v[i].name, m->v[i].size,
		    m->v[i].mtime_ms / 1000);
	return e;
}

static gfsb_err
asof_oldest(struct gfsb_backend *be, enum gfsb_obj type, int64_t *t)
{
	const struct s3_asof_map *m = NULL;
	gfsb_err e;

	if ((e = asof_map(be, type, &m)) != GFSB_OK)
		return e;
	/* Rounded up: the first whole second whose view shows it. */
	*t = (m->oldest_ms + 999) / 1000;
	return GFSB_OK;
}

static void
s3_io(struct gfsb_backend *be, struct gfsb_backend_io *out)
{
	s3_engine_io(S(be)->eng, out);
}

static void
s3_close(struct gfsb_backend *be)
{
	struct s3 *s = S(be);
	int i;

	if (s == NULL)
		return;
	s3_engine_free(s->eng);
	for (i = 0; i < GFSB_OBJ_NTYPES; i++)
		s3_asof_fini(&s->maps[i]);
	if (s->asof_mu_ok)
		pthread_mutex_destroy(&s->asof_mu);
	free(s->scheme_host);
	free(s->host);
	free(s->bucket);
	free(s->prefix);
	free(s->region);
	free(s->access_key);
	gfsb_crypto_secure_free(s->secret_key);
	if (s->session_token != NULL)
		sodium_memzero(s->session_token, strlen(s->session_token));
	free(s->session_token);
	free(s);
}

static const struct gfsb_backend_ops s3_ops = {
	.create = s3_create,
	.put = s3_put,
	.get = s3_get,
	.read = s3_read,
	.list = s3_list,
	.remove = s3_remove,
	.stat = s3_stat,
	.cleanup = s3_cleanup,
	.close = s3_close,
	.retention_set = s3_retention_set,
	.retention_get = s3_retention_get,
	.lock_enabled = s3_lock_enabled,
	.versioning = s3_versioning,
	.oldest_version = asof_oldest,
	.io = s3_io,
};

/* ---- opening: URL, endpoint, region, credentials ---- */

/* HOST[:PORT] of an endpoint: a name, IPv4 or [IPv6] address, and a port
 * from 1 to 65535. */
static int
hostport_ok(const char *h, size_t n)
{
	unsigned long port = 0;
	size_t i;

	if (h[0] == '[') {
		for (i = 1; i < n && h[i] != ']'; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				return 0;
		if (i >= n || i == 1)
			return 0;
		i++;
	} else {
		for (i = 0; i < n && (isalnum((unsigned char)h[i]) ||
		    h[i] == '.' || h[i] == '-' || h[i] == '_'); i++)
			;
		if (i == 0)
			return 0;
	}
	if (i == n)
		return 1;
	if (h[i++] != ':' || i == n)
		return 0;
	for (; i < n; i++) {
		if (!isdigit((unsigned char)h[i]))
			return 0;
		port = port * 10 + (unsigned long)(h[i] - '0');
		if (port > 65535)
			return 0;
	}
	return port > 0;
}

/* Segments of a prefix: not empty, not "." or "..", no control bytes
 * (servers and other clients treat those differently). */
static int
prefix_ok(const char *p)
{
	const char *seg = p, *end, *lim;
	size_t n;

	if (*p == '\0')
		return 1;
	for (;;) {
		end = strchr(seg, '/');
		n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0 || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return 0;
		for (lim = seg + n; seg < lim; seg++)
			if ((unsigned char)*seg < 0x20 || *seg == 0x7f)
				return 0;
		if (end == NULL)
			return 1;
		seg = end + 1;
	}
}

struct credfile {
	const char *profile;
	char *ak, *sk, *token;
	int in_profile, any;
};

static int
on_cred(void *ud, const char *section, const char *name, const char *value)
{
	struct credfile *c = ud;
	char **slot = NULL;

	if (strcmp(section, c->profile) != 0)
		return 1;
	c->any = 1;
	if (strcmp(name, "aws_access_key_id") == 0)
		slot = &c->ak;
	else if (strcmp(name, "aws_secret_access_key") == 0)
		slot = &c->sk;
	else if (strcmp(name, "aws_session_token") == 0)
		slot = &c->token;
	if (slot != NULL) {
		free(*slot);
		*slot = strdup(value);
	}
	return 1;
}

static gfsb_err
load_credentials(struct gfsb_ctx *ctx, struct s3 *s, const char *file)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tok = getenv("AWS_SESSION_TOKEN");
	struct credfile c;
	struct stat st;
	gfsb_err e = GFSB_OK;

	memset(&c, 0, sizeof(c));
	if (file != NULL) {
		/* Secrets in a file others can read are not secrets. */
		if (stat(file, &st) != 0)
			return gfsb_ctx_seterr(ctx, GFSB_EDENIED,
			    "cannot read credentials file %s: %s", file,
			    strerror(errno));
		if (st.st_mode & 077)
			return gfsb_ctx_seterr(ctx, GFSB_EDENIED,
			    "credentials file %s is readable by other users "
			    "(mode %04o): refused; chmod 600 it", file,
			    (unsigned)(st.st_mode & 07777));
		c.profile = getenv("AWS_PROFILE") ? getenv("AWS_PROFILE") :
		    "default";
		if (ini_parse(file, on_cred, &c) != 0 || c.ak == NULL ||
		    c.sk == NULL) {
			e = gfsb_ctx_seterr(ctx, GFSB_EDENIED,
			    "credentials file %s: no aws_access_key_id and "
			    "aws_secret_access_key in [%s]", file, c.profile);
			goto out;
		}
		ak = c.ak;
		sk = c.sk;
		tok = c.token;
	}
	if (ak == NULL || sk == NULL || *ak == '\0' || *sk == '\0') {
		e = gfsb_ctx_seterr(ctx, GFSB_EDENIED, "no S3 credentials: set "
		    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a "
		    "credentials file");
		goto out;
	}
	if ((s->access_key = strdup(ak)) == NULL ||
	    (s->secret_key = gfsb_crypto_secure_alloc(strlen(sk) + 1)) ==
	    NULL || (tok != NULL && *tok != '\0' &&
	    (s->session_token = strdup(tok)) == NULL)) {
		e = GFSB_ENOMEM;
		goto out;
	}
	memcpy(s->secret_key, sk, strlen(sk) + 1);
out:
	free(c.ak);
	if (c.sk != NULL)
		sodium_memzero(c.sk, strlen(c.sk));
	free(c.sk);
	free(c.token);
	return e;
}

static int
bucket_ok(const char *b, size_t n)
{
	size_t i;

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' &&
		    b[i] <= '9') || b[i] == '-' || b[i] == '.' || b[i] == '_'))
			return 0;
	return 1;
}

gfsb_err
gfsb_backend_s3_url_split(struct gfsb_ctx *ctx, const char *url,
    char *bucket, size_t blen, char *prefix, size_t plen)
{
	const char *p, *slash;
	size_t n;

	if (strncmp(url, "s3://", 5) != 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s is not an S3 URL "
		    "(want s3://BUCKET/PREFIX)", url);
	p = url + 5;
	if ((slash = strchr(p, '/')) == NULL)
		slash = p + strlen(p);
	n = (size_t)(slash - p);
	if (!bucket_ok(p, n) || n >= blen)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed S3 URL %s: "
		    "want s3://BUCKET/PREFIX with a bucket name of 3 to 63 "
		    "lowercase letters, digits, '.', '-'", url);
	memcpy(bucket, p, n);
	bucket[n] = '\0';
	while (*slash == '/')
		slash++;
	for (n = strlen(slash); n > 0 && slash[n - 1] == '/'; n--)
		;
	if (n > S3_PREFIX_MAX || n >= plen)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed S3 URL "
		    "s3://%s/...: the prefix is %zu bytes, more than %d (S3 "
		    "object keys are at most 1,024 bytes)", bucket, n,
		    S3_PREFIX_MAX);
	memcpy(prefix, slash, n);
	prefix[n] = '\0';
	if (!prefix_ok(prefix))
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed S3 URL %s: "
		    "the prefix may not have empty, \".\" or \"..\" segments, "
		    "or control characters", url);
	return GFSB_OK;
}

/* A tuning knob from the environment: unset, the default; else a whole
 * number from 1 to max, or the open fails naming it. */
static gfsb_err
env_long(struct gfsb_ctx *ctx, const char *name, long def, long max,
    long *out)
{
	const char *v = getenv(name);
	char *end;
	long r;

	*out = def;
	if (v == NULL || *v == '\0')
		return GFSB_OK;
	errno = 0;
	r = strtol(v, &end, 10);
	if (end == v || *end != '\0' || errno != 0 || r < 1 || r > max)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s=%s: want a whole "
		    "number from 1 to %ld", name, v, max);
	*out = r;
	return GFSB_OK;
}

/*
 * Make be the read-only view of its bucket as of t.  Only a bucket that
 * keeps versions has a past to look into; a Suspended one still keeps the
 * versions made while it was Enabled.
 */
static gfsb_err
open_as_of(struct gfsb_backend *be, int64_t t)
{
	struct s3 *s = S(be);
	char when[32];
	int state;
	gfsb_err e;

	if ((e = s3_versioning(be, &state)) != GFSB_OK)
		return e;
	if (state == 0)
		return gfsb_ctx_seterr(be->ctx, GFSB_EINVAL, "--as-of needs a "
		    "versioned bucket: %s has never had versioning enabled",
		    s->bucket);
	pthread_mutex_init(&s->asof_mu, NULL);
	s->asof_mu_ok = 1;
	s->as_of = t;
	be->as_of = t;
	gfsb_backend_fmt_time(t, when, sizeof(when));
	if (asprintf(&be->read_only, "read-only view of %s/%s as of %s",
	    s->bucket, s->prefix, when) < 0) {
		be->read_only = NULL;
		return GFSB_ENOMEM;
	}
	return GFSB_OK;
}

/* Region, endpoint and host: option, environment, then AWS's default. */
static gfsb_err
set_endpoint(struct gfsb_ctx *ctx, struct s3 *s,
    const struct gfsb_backend_opts *o)
{
	const char *p, *endpoint, *hostpart;
	char buf[1024];
	size_t blen;

	p = o && o->s3_region ? o->s3_region : getenv("AWS_REGION");
	if (p == NULL || *p == '\0')
		p = getenv("AWS_DEFAULT_REGION");
	if ((s->region = strdup(p && *p ? p : "us-east-1")) == NULL)
		return GFSB_ENOMEM;
	endpoint = o && o->s3_endpoint ? o->s3_endpoint :
	    getenv("GFSBACKUP_S3_ENDPOINT");
	s->virtual_host = o ? o->s3_virtual_host : 0;
	if (endpoint == NULL || *endpoint == '\0') {
		snprintf(buf, sizeof(buf), "https://s3.%s.amazonaws.com",
		    s->region);
		endpoint = buf;
		s->virtual_host = 1;
	}
	if (strncmp(endpoint, "http://", 7) == 0)
		hostpart = endpoint + 7;
	else if (strncmp(endpoint, "https://", 8) == 0)
		hostpart = endpoint + 8;
	else {
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed S3 "
		    "endpoint %s: want http://HOST[:PORT] or "
		    "https://HOST[:PORT]", endpoint);
	}
	blen = strcspn(hostpart, "/");
	if (blen == 0 || !hostport_ok(hostpart, blen) ||
	    (hostpart[blen] != '\0' && strcmp(hostpart + blen, "/") != 0)) {
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed S3 "
		    "endpoint %s: want http(s)://HOST[:PORT] (a port from 1 to "
		    "65535, no path)", endpoint);
	}
	if (s->virtual_host) {
		if (asprintf(&s->host, "%s.%.*s", s->bucket, (int)blen,
		    hostpart) < 0 || asprintf(&s->scheme_host, "%.*s%s",
		    (int)(hostpart - endpoint), endpoint, s->host) < 0)
			return GFSB_ENOMEM;
	} else {
		if ((s->host = strndup(hostpart, blen)) == NULL ||
		    asprintf(&s->scheme_host, "%.*s%s", (int)(hostpart -
		    endpoint), endpoint, s->host) < 0)
			return GFSB_ENOMEM;
	}
	return GFSB_OK;
}

/* Retries, part sizes, timeouts and connections: options, environment. */
static gfsb_err
set_tunables(struct gfsb_ctx *ctx, struct s3 *s, struct s3_engine_opts *eo,
    const struct gfsb_backend_opts *o)
{
	long v;
	gfsb_err e;

	memset(eo, 0, sizeof(*eo));
	if ((e = env_long(ctx, "GFSBACKUP_S3_ATTEMPTS", 8, 100, &v)) !=
	    GFSB_OK)
		return e;
	s->attempts = (int)v;
	if ((e = env_long(ctx, "GFSBACKUP_S3_BACKOFF_MS", 250, 60000, &v)) !=
	    GFSB_OK)
		return e;
	s->backoff = (double)v / 1000.0;
	if ((e = env_long(ctx, "GFSBACKUP_S3_MULTIPART_MIB", 64, 5120, &v)) !=
	    GFSB_OK)
		return e;
	s->multipart = (size_t)v << 20;
	if ((e = env_long(ctx, "GFSBACKUP_S3_PART_MIB", 16, 5120, &v)) !=
	    GFSB_OK)
		return e;
	s->part_size = (size_t)v << 20;
	if (s->part_size < MIN_PART)
		s->part_size = MIN_PART;
	if ((e = env_long(ctx, "GFSBACKUP_S3_LIST_PAGE", 0, 1000,
	    &s->list_page)) != GFSB_OK ||
	    (e = env_long(ctx, "GFSBACKUP_S3_TIMEOUT", 60, 3600,
	    &eo->timeout)) != GFSB_OK)
		return e;
	eo->connections = o && o->connections > 0 ? o->connections : 4;
	/* --cacert, else AWS_CA_BUNDLE (as AWS's own tools), else the
	 * system's bundle. */
	eo->cacert = o && o->cacert ? o->cacert : getenv("AWS_CA_BUNDLE");
	if (eo->cacert != NULL && *eo->cacert == '\0')
		eo->cacert = NULL;
	if (eo->cacert != NULL && access(eo->cacert, R_OK) != 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "CA bundle %s: %s",
		    eo->cacert, strerror(errno));
	return GFSB_OK;
}

gfsb_err
gfsb_backend_s3_open(struct gfsb_ctx *ctx, const char *url,
    const struct gfsb_backend_opts *o, struct gfsb_backend **out)
{
	struct s3_engine_opts eo;
	struct gfsb_backend *be;
	struct s3 *s;
	const char *p = url + 5, *slash;
	size_t blen;
	gfsb_err e;

	if ((slash = strchr(p, '/')) == NULL)
		slash = p + strlen(p);
	blen = (size_t)(slash - p);
	if (!bucket_ok(p, blen))
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed repository "
		    "URL %s: want s3://BUCKET/PREFIX with a bucket name of 3 "
		    "to 63 lowercase letters, digits, '.', '-'", url);
	if ((be = calloc(1, sizeof(*be))) == NULL ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		free(be);
		return GFSB_ENOMEM;
	}
	be->ops = &s3_ops;
	be->ctx = ctx;
	be->impl = s;
	e = GFSB_ENOMEM;
	if ((be->location = strdup(url)) == NULL ||
	    (s->bucket = strndup(p, blen)) == NULL)
		goto fail;
	while (*slash == '/')
		slash++;
	if ((s->prefix = strdup(slash)) == NULL)
		goto fail;
	for (blen = strlen(s->prefix); blen > 0 && s->prefix[blen - 1] == '/';)
		s->prefix[--blen] = '\0';
	if (blen > S3_PREFIX_MAX) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed repository "
		    "URL s3://%s/...: the prefix is %zu bytes, more than %d "
		    "(S3 object keys are at most 1,024 bytes)", s->bucket, blen,
		    S3_PREFIX_MAX);
		goto fail;
	}
	if (!prefix_ok(s->prefix)) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed repository "
		    "URL %s: the prefix may not have empty, \".\" or \"..\" "
		    "segments, or control characters", url);
		goto fail;
	}
	if ((e = set_endpoint(ctx, s, o)) != GFSB_OK)
		goto fail;
	if ((e = load_credentials(ctx, s, o ? o->s3_credentials_file :
	    NULL)) != GFSB_OK)
		goto fail;
	if ((e = set_tunables(ctx, s, &eo, o)) != GFSB_OK)
		goto fail;
	eo.limit_upload = o ? o->limit_upload : 0;
	if (s3_engine_new(&eo, &s->eng) != 0) {
		e = GFSB_ENOMEM;
		goto fail;
	}
	if (o != NULL && o->as_of != 0 && (e = open_as_of(be, o->as_of)) !=
	    GFSB_OK)
		goto fail;
	gfsb_backend_base_init(be);
	*out = be;
	return GFSB_OK;
fail:
	s3_close(be);
	free(be->location);
	free(be->read_only);
	free(be);
	return e;
}
