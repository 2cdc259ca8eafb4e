/*
 * Declarations shared inside the S3 backend: the SigV4 signer, the XML
 * readers and the libcurl transfer engine.
 */
#ifndef GFSB_S3_INTERNAL_H
#define GFSB_S3_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include <gfsbackup/util.h>

/* ---- s3_sign.c: AWS Signature Version 4 ---- */

/* A header to sign: lowercase name, value as sent. */
struct s3_header {
	const char *name;
	const char *value;
};

struct s3_sign_req {
	const char *method;	  /* "GET" */
	const char *path;	  /* URI-encoded absolute path, "/bucket/key" */
	const char *query;	  /* canonical query string, or "" */
	const char *payload_hash; /* hex SHA-256 of the body */
	const char *amz_date;	  /* "20130524T000000Z" */
	const char *region;
	const char *access_key;
	const char *secret_key;
	const struct s3_header *h; /* every header to sign, host included */
	size_t nh;
};

/*
 * s3_sign(r, auth, len):
 * The Authorization header value for request r, signing the headers r->h
 * (sorted by name here; values trimmed).  Returns 0, or -1 if something
 * does not fit (more than 16 headers, or auth too small).
 */
int s3_sign(const struct s3_sign_req *r, char *auth, size_t len);

/*
 * s3_uri_encode(in, out, len, keep_slash):
 * RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - _ . ~ as
 * they are (and '/' with keep_slash), everything else %XX (uppercase).
 * Returns 0, or -1 if out is too small.
 */
int s3_uri_encode(const char *in, char *out, size_t len, int keep_slash);

/* "YYYYMMDDTHHMMSSZ" for the current time (or t). */
void s3_amz_date(char out[17], int64_t t);

/* ---- s3_xml.c: reading S3's XML answers (expat) ---- */

struct s3_list_item {
	char *key;
	uint64_t size;
};

struct s3_list_page {
	struct s3_list_item *items;
	size_t n, cap;
	int truncated;
	char *next_token;
};

/* Parse a ListObjectsV2 result.  -1 if it is not one (or too large). */
int s3_xml_list(const char *xml, size_t len, struct s3_list_page *out);
void s3_xml_list_fini(struct s3_list_page *p);

/* Pull Code and Message out of an S3 error body (empty if none). */
void s3_xml_error(const char *xml, size_t len, char *code, size_t clen,
    char *msg, size_t mlen);

/* The UploadId of an InitiateMultipartUploadResult; -1 if absent. */
int s3_xml_upload_id(const char *xml, size_t len, char *out, size_t olen);

/* ListMultipartUploadsResult: keys and upload ids of pending uploads. */
struct s3_upload {
	char *key;
	char *id;
};
int s3_xml_uploads(const char *xml, size_t len, struct s3_upload **out,
    size_t *n, int *truncated);

/* ---- s3_engine.c: transfers through libcurl's multi interface ---- */

struct s3_engine;

/* One HTTP transfer.  The caller fills the request part, submits, waits. */
struct s3_xfer {
	/* request */
	char *url;
	const char *method;	     /* GET, PUT, POST, DELETE, HEAD */
	struct curl_slist *headers;  /* owned by the caller */
	const uint8_t *body;
	size_t body_len;
	uint8_t *dst;		     /* response body into dst[0..dst_cap) */
	size_t dst_cap;
	struct gfsb_buf *resp;	     /* else appended here, up to resp_cap */
	size_t resp_cap;
	struct gfsb_buf *errbody;    /* the body of a non-2xx answer (capped) */
	/* results */
	int curl_code;		     /* CURLcode */
	long status;
	size_t dst_len;
	int overflow;		     /* the body was larger than allowed */
	char etag[128];
	uint64_t content_length;
	int have_length;
	char errbuf[256];
	/* engine */
	long hstatus;		     /* from the latest status line */
	size_t body_off;
	int done;
	void *easy;
	struct s3_xfer *next;
};

struct s3_engine_opts {
	int connections;	  /* transfers at once */
	const char *cacert;	  /* NULL: the system's CAs */
	uint64_t limit_upload;	  /* bytes/s over all transfers, 0: none */
	long timeout;		  /* seconds without progress = failure */
};

int s3_engine_new(const struct s3_engine_opts *o, struct s3_engine **out);
void s3_engine_free(struct s3_engine *e);
/* Queue x; returns at once.  s3_engine_wait(e, x) returns when it ended. */
void s3_engine_submit(struct s3_engine *e, struct s3_xfer *x);
void s3_engine_wait(struct s3_engine *e, struct s3_xfer *x);

#endif
