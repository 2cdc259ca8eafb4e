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
 */
#include <ctype.h>
#include <errno.h>
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
	/* results */
	long status;
	char code[64];
	char etag[128];
	uint64_t length;
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

static gfsb_err
build(struct s3 *s, struct req *q, struct s3_xfer *x, char *hash)
{
	char path[4096], enc[4096], url[8192], date[17], auth[1024],
	    hdr[1200];
	struct s3_header h[6];
	struct s3_sign_req sr;
	size_t nh = 0;

	if (q->payload_hash != NULL) {
		snprintf(hash, 65, "%s", q->payload_hash);
	} else if (q->body_len > 0) {
		gfsb_crypto_sha256_hex(q->body, q->body_len, hash);
	} else {
		snprintf(hash, 65, "%s", EMPTY_SHA256);
	}
	if (s->virtual_host)
		snprintf(path, sizeof(path), "/%s", q->key ? q->key : "");
	else
		snprintf(path, sizeof(path), "/%s%s%s", s->bucket,
		    q->key ? "/" : "", q->key ? q->key : "");
	if (s3_uri_encode(path, enc, sizeof(enc), 1) != 0)
		return GFSB_EINVAL;
	snprintf(url, sizeof(url), "%s%s%s%s", s->scheme_host, enc,
	    q->query[0] ? "?" : "", q->query);
	s3_amz_date(date, 0);
	h[nh++] = (struct s3_header){ "host", s->host };
	h[nh++] = (struct s3_header){ "x-amz-content-sha256", hash };
	h[nh++] = (struct s3_header){ "x-amz-date", date };
	if (q->range != NULL)
		h[nh++] = (struct s3_header){ "range", q->range };
	if (s->session_token != NULL)
		h[nh++] = (struct s3_header){ "x-amz-security-token",
		    s->session_token };
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
	snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
	x->headers = curl_slist_append(x->headers, hdr);
	snprintf(hdr, sizeof(hdr), "x-amz-content-sha256: %s", hash);
	x->headers = curl_slist_append(x->headers, hdr);
	snprintf(hdr, sizeof(hdr), "x-amz-date: %s", date);
	x->headers = curl_slist_append(x->headers, hdr);
	if (q->range != NULL) {
		snprintf(hdr, sizeof(hdr), "Range: %s", q->range);
		x->headers = curl_slist_append(x->headers, hdr);
	}
	if (s->session_token != NULL) {
		snprintf(hdr, sizeof(hdr), "x-amz-security-token: %s",
		    s->session_token);
		x->headers = curl_slist_append(x->headers, hdr);
	}
	/* No 100-continue round trip, no form content type on POST. */
	x->headers = curl_slist_append(x->headers, "Expect:");
	if (strcmp(q->method, "POST") == 0)
		x->headers = curl_slist_append(x->headers,
		    "Content-Type: application/xml");
	sodium_memzero(auth, sizeof(auth));
	sodium_memzero(hdr, sizeof(hdr));
	if (x->headers == NULL)
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
	else
		e = GFSB_ENET;
	if (e == GFSB_ENOTFOUND)
		return gfsb_ctx_seterr(be->ctx, e, "%s: not found", what);
	if (e == GFSB_EDENIED && q->code[0] == '\0')
		return gfsb_ctx_seterr(be->ctx, e, "%s: HTTP %ld: access "
		    "denied (check the S3 credentials and the bucket's "
		    "permissions)", what, x->status);
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
		memcpy(q->etag, x.etag, sizeof(q->etag));
		q->length = x.have_length ? x.content_length : 0;
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
		if (!retryable(&x) || attempt >= s->attempts)
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
    size_t n)
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
	req_init(&q, "POST", key, "uploads=");
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
    const uint8_t *p, size_t n)
{
	struct s3 *s = S(be);
	char key[2048];
	struct req q;

	object_key(s, type, name, key, sizeof(key));
	if (n > s->multipart && n > MIN_PART)
		return put_multipart(be, key, p, n);
	req_init(&q, "PUT", key, NULL);
	q.body = p;
	q.body_len = n;
	/* The name of a hash-named object is its digest: sign it as is. */
	if (type != GFSB_OBJ_CONFIG)
		q.payload_hash = name;
	return run_req(be, &q);
}

static gfsb_err
s3_get(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    struct gfsb_buf *out)
{
	char key[2048];
	struct gfsb_buf tmp;
	struct req q;
	gfsb_err e;

	gfsb_buf_init(&tmp);
	object_key(S(be), type, name, key, sizeof(key));
	req_init(&q, "GET", key, NULL);
	q.resp = &tmp;
	q.resp_cap = MAX_OBJECT;
	if ((e = run_req(be, &q)) == GFSB_OK)
		e = gfsb_buf_append(out, tmp.data, tmp.len);
	gfsb_buf_fini(&tmp);
	return e;
}

static gfsb_err
s3_read(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    uint64_t off, uint8_t *dst, size_t n)
{
	char key[2048], range[64];
	struct req q;
	gfsb_err e;

	if (n == 0)
		return GFSB_OK;
	object_key(S(be), type, name, key, sizeof(key));
	snprintf(range, sizeof(range), "bytes=%llu-%llu",
	    (unsigned long long)off, (unsigned long long)(off + n - 1));
	req_init(&q, "GET", key, NULL);
	q.range = range;
	q.dst = dst;
	q.dst_cap = n;
	e = run_req(be, &q);
	if (e == GFSB_OK && q.status != 206 && !(q.status == 200 && off == 0))
		e = gfsb_ctx_seterr(be->ctx, GFSB_ENET, "%s: the server "
		    "ignored the byte range", key);
	return e;
}

static gfsb_err
s3_stat(struct gfsb_backend *be, enum gfsb_obj type, const char *name,
    uint64_t *size)
{
	char key[2048];
	struct req q;
	gfsb_err e;

	object_key(S(be), type, name, key, sizeof(key));
	req_init(&q, "HEAD", key, NULL);
	if ((e = run_req(be, &q)) == GFSB_OK) {
		*size = q.length;
		return GFSB_OK;
	}
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
		req_init(&q, "GET", key, NULL);
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
s3_remove(struct gfsb_backend *be, enum gfsb_obj type, const char *name)
{
	char key[2048];
	struct req q;

	object_key(S(be), type, name, key, sizeof(key));
	req_init(&q, "DELETE", key, NULL);
	return run_req(be, &q);
}

static gfsb_err
s3_list(struct gfsb_backend *be, enum gfsb_obj type,
    gfsb_backend_list_fn *fn, void *cookie)
{
	struct s3 *s = S(be);
	char pfx[2048], epfx[4096], etok[4096], query[8192], maxkeys[32] = "";
	const char *name, *slash;
	struct s3_list_page pg;
	struct gfsb_buf ans;
	char *token = NULL;
	struct req q;
	size_t i, plen;
	gfsb_err e = GFSB_OK;

	if (type == GFSB_OBJ_CONFIG) {
		uint64_t size;

		if ((e = s3_stat(be, type, "config", &size)) == GFSB_OK)
			return fn(cookie, "config", size);
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
			if (strncmp(pg.items[i].key, pfx, plen) != 0)
				continue;
			name = pg.items[i].key + plen;
			if (type == GFSB_OBJ_PACK &&
			    (slash = strchr(name, '/')) != NULL)
				name = slash + 1;
			if (!gfsb_backend_name_ok(type, name))
				continue; /* not ours */
			e = fn(cookie, name, pg.items[i].size);
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
s3_cleanup(struct gfsb_backend *be, uint64_t *removed)
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
			if (strncmp(ups[i].key, pfx, plen) != 0)
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

static void
s3_close(struct gfsb_backend *be)
{
	struct s3 *s = S(be);

	if (s == NULL)
		return;
	s3_engine_free(s->eng);
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

gfsb_err
gfsb_backend_s3_open(struct gfsb_ctx *ctx, const char *url,
    const struct gfsb_backend_opts *o, struct gfsb_backend **out)
{
	struct s3_engine_opts eo;
	struct gfsb_backend *be;
	struct s3 *s;
	const char *p = url + 5, *slash, *endpoint, *hostpart;
	char buf[1024];
	size_t blen;
	long v;
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
	if (!prefix_ok(s->prefix)) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed repository "
		    "URL %s: the prefix may not have empty, \".\" or \"..\" "
		    "segments, or control characters", url);
		goto fail;
	}
	/* Region and endpoint: option, environment, then AWS's default. */
	p = o && o->s3_region ? o->s3_region : getenv("AWS_REGION");
	if (p == NULL || *p == '\0')
		p = getenv("AWS_DEFAULT_REGION");
	if ((s->region = strdup(p && *p ? p : "us-east-1")) == NULL)
		goto fail;
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
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed S3 endpoint "
		    "%s: want http://HOST[:PORT] or https://HOST[:PORT]",
		    endpoint);
		goto fail;
	}
	blen = strcspn(hostpart, "/");
	if (blen == 0 || !hostport_ok(hostpart, blen) ||
	    (hostpart[blen] != '\0' && strcmp(hostpart + blen, "/") != 0)) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "malformed S3 endpoint "
		    "%s: want http(s)://HOST[:PORT] (a port from 1 to 65535, "
		    "no path)", endpoint);
		goto fail;
	}
	if (s->virtual_host) {
		if (asprintf(&s->host, "%s.%.*s", s->bucket, (int)blen,
		    hostpart) < 0 || asprintf(&s->scheme_host, "%.*s%s",
		    (int)(hostpart - endpoint), endpoint, s->host) < 0)
			goto fail;
	} else {
		if ((s->host = strndup(hostpart, blen)) == NULL ||
		    asprintf(&s->scheme_host, "%.*s%s", (int)(hostpart -
		    endpoint), endpoint, s->host) < 0)
			goto fail;
	}
	if ((e = load_credentials(ctx, s, o ? o->s3_credentials_file :
	    NULL)) != GFSB_OK)
		goto fail;
	memset(&eo, 0, sizeof(eo));
	if ((e = env_long(ctx, "GFSBACKUP_S3_ATTEMPTS", 8, 100, &v)) !=
	    GFSB_OK)
		goto fail;
	s->attempts = (int)v;
	if ((e = env_long(ctx, "GFSBACKUP_S3_BACKOFF_MS", 250, 60000, &v)) !=
	    GFSB_OK)
		goto fail;
	s->backoff = (double)v / 1000.0;
	if ((e = env_long(ctx, "GFSBACKUP_S3_MULTIPART_MIB", 64, 5120, &v)) !=
	    GFSB_OK)
		goto fail;
	s->multipart = (size_t)v << 20;
	if ((e = env_long(ctx, "GFSBACKUP_S3_PART_MIB", 16, 5120, &v)) !=
	    GFSB_OK)
		goto fail;
	s->part_size = (size_t)v << 20;
	if (s->part_size < MIN_PART)
		s->part_size = MIN_PART;
	if ((e = env_long(ctx, "GFSBACKUP_S3_LIST_PAGE", 0, 1000,
	    &s->list_page)) != GFSB_OK ||
	    (e = env_long(ctx, "GFSBACKUP_S3_TIMEOUT", 60, 3600,
	    &eo.timeout)) != GFSB_OK)
		goto fail;
	eo.connections = o && o->connections > 0 ? o->connections : 4;
	/* --cacert, else AWS_CA_BUNDLE (as AWS's own tools), else the
	 * system's bundle. */
	eo.cacert = o && o->cacert ? o->cacert : getenv("AWS_CA_BUNDLE");
	if (eo.cacert != NULL && *eo.cacert == '\0')
		eo.cacert = NULL;
	if (eo.cacert != NULL && access(eo.cacert, R_OK) != 0) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "CA bundle %s: %s",
		    eo.cacert, strerror(errno));
		goto fail;
	}
	eo.limit_upload = o ? o->limit_upload : 0;
	if (s3_engine_new(&eo, &s->eng) != 0) {
		e = GFSB_ENOMEM;
		goto fail;
	}
	*out = be;
	return GFSB_OK;
fail:
	s3_close(be);
	free(be->location);
	free(be);
	return e;
}
