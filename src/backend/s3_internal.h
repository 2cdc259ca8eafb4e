/*
 * Declarations shared inside the S3 backend: the SigV4 signer, the XML
 * readers and the libcurl transfer engine.
 */
#ifndef GFSB_S3_INTERNAL_H
#define GFSB_S3_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include <gfsbackup/backend.h>
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

/*
 * s3_content_md5(p, n, out):
 * The Content-MD5 header's value for the body p[0..n): the base64 of its
 * MD5 (RFC 1864), 24 characters and a NUL.  Returns 0, or -1 if OpenSSL
 * has no MD5 (FIPS mode).
 */
int s3_content_md5(const void *p, size_t n, char out[25]);

/*
 * s3_parse_time_ms(s, ms):
 * An RFC 3339 / ISO 8601 time as S3 writes them ("2026-12-06T03:16:55.540Z",
 * Ceph's "...T03:17:17.000000000Z", or with "+hh:mm") to milliseconds since
 * the epoch (the fraction truncated).  Returns 0, or -1 if malformed.
 */
int s3_parse_time_ms(const char *s, int64_t *ms);

/* ---- s3_xml.c: reading S3's XML answers (expat) ---- */

struct s3_list_item {
	char *key;
	uint64_t size;
	int64_t mtime_ms;	/* LastModified; 0 if absent or malformed */
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

/* One entry of a ListObjectVersions page: a version or a delete marker. */
struct s3_version {
	char *key;
	char *version_id;
	uint64_t size;		/* 0 for a delete marker */
	int64_t mtime_ms;	/* LastModified */
	int is_latest;
	int is_marker;
};

struct s3_version_page {
	struct s3_version *v;
	size_t n, cap;
	int truncated;
	char *next_key;		/* NextKeyMarker */
	char *next_version;	/* NextVersionIdMarker (may be NULL) */
};

/*
 * s3_xml_versions(xml, len, max_items, out):
 * Parse a ListVersionsResult: <Version> and <DeleteMarker> entries in the
 * server's order (by key, newest first).  -1 if it is not one, if an entry
 * lacks its Key, VersionId (at most 1024 bytes) or a valid LastModified,
 * if it holds more than max_items entries (capped at 100,000), or if it is
 * truncated without a NextKeyMarker.  Free with s3_xml_versions_fini.
 */
int s3_xml_versions(const char *xml, size_t len, size_t max_items,
    struct s3_version_page *out);
void s3_xml_versions_fini(struct s3_version_page *p);

/* GetObjectLockConfiguration: *enabled = ObjectLockEnabled is "Enabled".
 * -1 if it is not an ObjectLockConfiguration. */
int s3_xml_lock_config(const char *xml, size_t len, int *enabled);

/* GetBucketVersioning: *state = 0 (no Status: never enabled), 1 Enabled,
 * 2 Suspended.  -1 if it is not a VersioningConfiguration or the status is
 * unknown. */
int s3_xml_versioning(const char *xml, size_t len, int *state);

/* The body of PutObjectRetention for mode ("GOVERNANCE", "COMPLIANCE") and
 * until.  Returns its length, or -1 if out is too small. */
int s3_xml_retention_body(const char *mode, int64_t until, char *out,
    size_t len);

/* Pull Code and Message out of an S3 error body (empty if none). */
void s3_xml_error(const char *xml, size_t len, char *code, size_t clen,
    char *msg, size_t mlen);

/* The UploadId of an InitiateMultipartUploadResult; -1 if absent. */
int s3_xml_upload_id(const char *xml, size_t len, char *out, size_t olen);

/* ListMultipartUploadsResult: keys and upload ids of pending uploads. */
struct s3_upload {
	char *key;
	char *id;
	int64_t initiated_ms;	/* by the server's clock; 0: not said */
};
int s3_xml_uploads(const char *xml, size_t len, struct s3_upload **out,
    size_t *n, int *truncated);

/* ---- backend_s3.c ---- */

struct gfsb_retention;

/* The retention in a HEAD's x-amz-object-lock-mode and
 * x-amz-object-lock-retain-until-date values ("" when absent): both absent
 * is GFSB_LOCK_NONE.  Returns 0, or -1 if malformed. */
int s3_lock_headers(const char *mode, const char *until,
    struct gfsb_retention *out);

/* ---- s3_asof.c: the view of a versioned bucket at a past moment ---- */

/* An object visible as of the moment: the version that decides. */
struct s3_asof_ent {
	char name[65];		/* the object's name: hex id or "config" */
	char *version_id;
	uint64_t size;
	int64_t mtime_ms;
	uint64_t seq;		/* place in the listing (earlier: newer) */
	int marker;
};

/* One type's objects as of the moment, sorted by name once finished. */
struct s3_asof_map {
	struct s3_asof_ent *v;
	size_t n, cap;
	uint64_t seq;
	int64_t as_of_ms;
	size_t max;		/* entries kept at most */
	int64_t oldest_ms;	/* the oldest version offered, at any time
				   (delete markers aside); 0: none */
};

/*
 * s3_asof_init(m, as_of_ms, max):
 * An empty map for the moment as_of_ms (milliseconds since the epoch),
 * keeping at most max entries.
 */
void s3_asof_init(struct s3_asof_map *m, int64_t as_of_ms, size_t max);

/*
 * s3_asof_offer(m, name, version_id, size, mtime_ms, marker):
 * Offer one listing entry, in the server's order.  An entry newer than the
 * moment is passed over; of the others, for each name the newest by
 * LastModified wins, and of equally old ones the first offered (S3 lists
 * each key's versions newest first, so the listing breaks a tie).  Every
 * version (not a marker), newer than the moment or not, counts towards
 * oldest_ms.  Returns 0, -1 when out of memory, -2 when more than max
 * names are kept.
 */
int s3_asof_offer(struct s3_asof_map *m, const char *name,
    const char *version_id, uint64_t size, int64_t mtime_ms, int marker);

/*
 * s3_asof_finish(m):
 * After the last offer: sort by name, keep each name's winner (a server
 * that did not group a key's entries is handled too), and drop the names
 * whose winner is a delete marker: they were deleted at the moment.
 */
void s3_asof_finish(struct s3_asof_map *m);

/* The visible version of name in a finished map, or NULL. */
const struct s3_asof_ent *s3_asof_find(const struct s3_asof_map *m,
    const char *name);

void s3_asof_fini(struct s3_asof_map *m);

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
	int64_t last_modified;	     /* Last-Modified, seconds; 0: none */
	char lock_mode[32];	     /* x-amz-object-lock-mode */
	char lock_until[64];	     /* x-amz-object-lock-retain-until-date */
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
/* Requests finished, bytes moved and connection-seconds so far. */
void s3_engine_io(struct s3_engine *e, struct gfsb_backend_io *out);

#endif
