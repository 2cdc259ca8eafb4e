/* S3: the SigV4 signer against AWS's published examples ("Examples of
 * signature calculations", Amazon S3 API reference), percent-encoding,
 * Content-MD5 against RFC 1321's vectors, S3's dates, the XML readers on
 * real and hostile answers, and the rule that picks the version visible at
 * a past moment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/util.h>

#include "backend/backend_internal.h"
#include "backend/s3_internal.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DATE "20130524T000000Z"
#define HOST "examplebucket.s3.amazonaws.com"

static void
check(const char *method, const char *path, const char *query,
    const char *hash, const struct s3_header *h, size_t nh,
    const char *want_signed, const char *want_sig)
{
	struct s3_sign_req r;
	char auth[512], expect[512];

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = path;
	r.query = query;
	r.payload_hash = hash;
	r.amz_date = DATE;
	r.region = "us-east-1";
	r.access_key = AK;
	r.secret_key = SK;
	r.h = h;
	r.nh = nh;
	assert_int_equal(s3_sign(&r, auth, sizeof(auth)), 0);
	snprintf(expect, sizeof(expect), "AWS4-HMAC-SHA256 Credential=" AK
	    "/20130524/us-east-1/s3/aws4_request,SignedHeaders=%s,"
	    "Signature=%s", want_signed, want_sig);
	assert_string_equal(auth, expect);
}

static void
test_aws_get_object(void **state)
{
	const struct s3_header h[] = {
		{ "x-amz-date", DATE }, { "range", "bytes=0-9" },
		{ "host", HOST }, { "x-amz-content-sha256", EMPTY } };

	(void)state;
	check("GET", "/test.txt", "", EMPTY, h, 4,
	    "host;range;x-amz-content-sha256;x-amz-date",
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void
test_aws_put_object(void **state)
{
	const char *body = "Welcome to Amazon S3.";
	uint8_t d[32];
	char hash[65], path[64];
	const struct s3_header h[] = {
		{ "host", HOST }, { "date", "Fri, 24 May 2013 00:00:00 GMT" },
		{ "x-amz-date", DATE },
		{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
		{ "x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2"
		    "b6b4b4e99e42034a8b803f8b072" } };

	(void)state;
	gfsb_crypto_sha256(body, strlen(body), d);
	gfsb_hex_encode(d, sizeof(d), hash);
	assert_string_equal(hash, h[4].value);
	assert_int_equal(s3_uri_encode("/test$file.text", path, sizeof(path),
	    1), 0);
	assert_string_equal(path, "/test%24file.text");
	check("PUT", path, "", hash, h, 5,
	    "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

static void
test_aws_get_lifecycle(void **state)
{
	const struct s3_header h[] = { { "host", HOST },
		{ "x-amz-content-sha256", EMPTY }, { "x-amz-date", DATE } };

	(void)state;
	check("GET", "/", "lifecycle=", EMPTY, h, 3,
	    "host;x-amz-content-sha256;x-amz-date",
	    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

static void
test_aws_list_objects(void **state)
{
	const struct s3_header h[] = { { "host", HOST },
		{ "x-amz-content-sha256", EMPTY }, { "x-amz-date", DATE } };

	(void)state;
	check("GET", "/", "max-keys=2&prefix=J", EMPTY, h, 3,
	    "host;x-amz-content-sha256;x-amz-date",
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

/* A wrong secret or a changed header gives another signature. */
static void
test_signature_binds_everything(void **state)
{
	struct s3_header h[] = { { "host", HOST },
		{ "x-amz-content-sha256", EMPTY }, { "x-amz-date", DATE } };
	struct s3_sign_req r;
	char a[512], b[512];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path = "/";
	r.query = "";
	r.payload_hash = EMPTY;
	r.amz_date = DATE;
	r.region = "us-east-1";
	r.access_key = AK;
	r.secret_key = SK;
	r.h = h;
	r.nh = 3;
	assert_int_equal(s3_sign(&r, a, sizeof(a)), 0);
	r.secret_key = "another secret";
	assert_int_equal(s3_sign(&r, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	r.secret_key = SK;
	r.region = "eu-west-1";
	assert_int_equal(s3_sign(&r, b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	r.region = "us-east-1";
	h[0].value = "  " HOST "  "; /* values are trimmed */
	assert_int_equal(s3_sign(&r, b, sizeof(b)), 0);
	assert_string_equal(a, b);
	assert_int_equal(s3_sign(&r, b, 20), -1);
}

static void
test_uri_encode(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(s3_uri_encode("a b/c+d~e_f.g-h", out, sizeof(out), 1),
	    0);
	assert_string_equal(out, "a%20b/c%2Bd~e_f.g-h");
	assert_int_equal(s3_uri_encode("a/b", out, sizeof(out), 0), 0);
	assert_string_equal(out, "a%2Fb");
	assert_int_equal(s3_uri_encode("\xc3\xa9=", out, sizeof(out), 0), 0);
	assert_string_equal(out, "%C3%A9%3D");
	assert_int_equal(s3_uri_encode("abcdef", out, 4, 0), -1);
}

static void
test_xml_list(void **state)
{
	const char *xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Name>b</Name><Prefix>r/data/</Prefix><KeyCount>2</KeyCount>"
	    "<IsTruncated>true</IsTruncated>"
	    "<Contents><Key>r/data/ab/ab12</Key><Size>123</Size></Contents>"
	    "<Contents><Key>r/data/cd/a &amp; b</Key><Size>9</Size>"
	    "<ETag>&quot;x&quot;</ETag></Contents>"
	    "<NextContinuationToken>tok+/=</NextContinuationToken>"
	    "</ListBucketResult>";
	struct s3_list_page pg;

	(void)state;
	assert_int_equal(s3_xml_list(xml, strlen(xml), &pg), 0);
	assert_int_equal(pg.n, 2);
	assert_string_equal(pg.items[0].key, "r/data/ab/ab12");
	assert_true(pg.items[0].size == 123);
	assert_string_equal(pg.items[1].key, "r/data/cd/a & b");
	assert_true(pg.truncated);
	assert_string_equal(pg.next_token, "tok+/=");
	s3_xml_list_fini(&pg);
}

/* Forged or broken answers: errors, never crashes or endless loops. */
static void
test_xml_hostile(void **state)
{
	static const char *bad[] = {
		"",
		"<ListBucketResult><Contents><Key>",
		"<Error><Code>NoSuchBucket</Code></Error>",
		"<ListBucketResult><IsTruncated>true</IsTruncated>"
		    "</ListBucketResult>", /* truncated without a token */
		"<ListBucketResult><Contents><Size>1</Size></Contents>"
		    "</ListBucketResult>", /* no key */
		"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
		    "<ListBucketResult><Contents><Key>&e;</Key></Contents>"
		    "</ListBucketResult>",
	};
	struct s3_list_page pg;
	char code[64], msg[256], big[8000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(s3_xml_list(bad[i], strlen(bad[i]), &pg), -1);
	/* A key longer than S3 allows is dropped (empty), so refused. */
	snprintf(big, sizeof(big), "<ListBucketResult><Contents><Key>");
	memset(big + strlen(big), 'k', 5000);
	strcpy(big + strlen("<ListBucketResult><Contents><Key>") + 5000,
	    "</Key></Contents></ListBucketResult>");
	assert_int_equal(s3_xml_list(big, strlen(big), &pg), -1);
	{
		const char *e = "<Error><Code>SignatureDoesNotMatch</Code>"
		    "<Message>The request signature we calculated does not "
		    "match</Message></Error>";

		s3_xml_error(e, strlen(e), code, sizeof(code), msg,
		    sizeof(msg));
	}
	assert_string_equal(code, "SignatureDoesNotMatch");
	assert_non_null(strstr(msg, "does not match"));
	s3_xml_error("not xml", 7, code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "");
}

static void
test_xml_multipart(void **state)
{
	const char *init = "<InitiateMultipartUploadResult><Bucket>b</Bucket>"
	    "<Key>k</Key><UploadId>2~abc</UploadId>"
	    "</InitiateMultipartUploadResult>";
	const char *list = "<ListMultipartUploadsResult><Upload><Key>r/data/x"
	    "</Key><UploadId>u1</UploadId><Initiated>2026-12-07T08:45:20.500Z"
	    "</Initiated></Upload><Upload><Key>r/y</Key>"
	    "<UploadId>u2</UploadId></Upload><IsTruncated>false</IsTruncated>"
	    "</ListMultipartUploadsResult>";
	struct s3_upload *u;
	size_t n, i;
	char id[128];
	int trunc;

	(void)state;
	assert_int_equal(s3_xml_upload_id(init, strlen(init), id, sizeof(id)),
	    0);
	assert_string_equal(id, "2~abc");
	assert_int_equal(s3_xml_upload_id("<x/>", 4, id, sizeof(id)), -1);
	assert_int_equal(s3_xml_uploads(list, strlen(list), &u, &n, &trunc),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(u[1].id, "u2");
	/* When each began: cleanup leaves an upload begun since it looked
	 * at the locks; one the server does not date counts as old. */
	assert_int_equal(u[0].initiated_ms, 1796633120500LL);
	assert_int_equal(u[1].initiated_ms, 0);
	assert_false(trunc);
	for (i = 0; i < n; i++) {
		free(u[i].key);
		free(u[i].id);
	}
	free(u);
}

/* RFC 1321's test suite (appendix A.5), as Content-MD5 sends it: base64 of
 * the digest (RFC 1864). */
static void
test_content_md5(void **state)
{
	static const struct {
		const char *in, *hex, *b64;
	} v[] = {
		{ "", "d41d8cd98f00b204e9800998ecf8427e",
		    "1B2M2Y8AsgTpgAmY7PhCfg==" },
		{ "a", "0cc175b9c0f1b6a831c399e269772661",
		    "DMF1ucDxtqgxw5niaXcmYQ==" },
		{ "abc", "900150983cd24fb0d6963f7d28e17f72",
		    "kAFQmDzST7DWlj99KOF/cg==" },
		{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0",
		    "+WtpfXy3k41SWi8xqvFh0A==" },
		{ "abcdefghijklmnopqrstuvwxyz",
		    "c3fcd3d76192e4007dfb496cca67e13b",
		    "w/zT12GS5AB9+0lsymfhOw==" },
		{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789", "d174ab98d277d9f5a5611c2c9f419d9f",
		    "0XSrmNJ32fWlYRwsn0Gdnw==" },
		{ "1234567890123456789012345678901234567890"
		    "1234567890123456789012345678901234567890",
		    "57edf4a22be3c955ac49da2e2107b67a",
		    "V+30oivjyVWsSdouIQe2eg==" },
	};
	uint8_t d[16];
	char out[25];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(s3_content_md5(v[i].in, strlen(v[i].in), out),
		    0);
		assert_string_equal(out, v[i].b64);
		/* The base64 is of the RFC's digest, not of something else. */
		assert_int_equal(gfsb_hex_decode(v[i].hex, d, sizeof(d)),
		    GFSB_OK);
		{
			char b64[25];
			size_t n;
			uint8_t back[16];

			snprintf(b64, sizeof(b64), "%s", out);
			assert_int_equal(sodium_base642bin(back, sizeof(back),
			    b64, strlen(b64), NULL, &n, NULL,
			    sodium_base64_VARIANT_ORIGINAL), 0);
			assert_int_equal(n, 16);
			assert_memory_equal(back, d, 16);
		}
	}
}

/* S3 writes RFC 3339 / ISO 8601 UTC times: with milliseconds (AWS, Ceph
 * listings), nanoseconds (Ceph's retain-until header) or none. */
static void
test_times(void **state)
{
	static const char *const bad[] = {
		"", "2026-12-06", "2026-12-06T03:16:55", "2026-13-06T03:16:55Z",
		"2026-12-06T25:16:55Z", "2026-12-06T03:16:55.Z",
		"2026-12-06T03:16:55Zjunk", "Sun, 06 Dec 2026 03:16:55 GMT",
		"2026-12-06T03:16:55+0100",
	};
	char buf[32];
	int64_t ms;
	size_t i;

	(void)state;
	assert_int_equal(s3_parse_time_ms("2026-12-06T03:16:55.540Z", &ms), 0);
	assert_true(ms == 1796527015540LL);
	assert_int_equal(s3_parse_time_ms("2026-12-06T03:17:17.000000000Z",
	    &ms), 0);
	assert_true(ms == 1796527037000LL);
	assert_int_equal(s3_parse_time_ms("2026-12-06T03:17:17Z", &ms), 0);
	assert_true(ms == 1796527037000LL);
	assert_int_equal(s3_parse_time_ms("2026-12-06T03:17:17.9999Z", &ms), 0);
	assert_true(ms == 1796527037999LL); /* truncated, never rounded up */
	assert_int_equal(s3_parse_time_ms("2026-12-06T04:17:17.5+01:00", &ms),
	    0);
	assert_true(ms == 1796527037500LL);
	assert_int_equal(s3_parse_time_ms("1970-01-01T00:00:00.001Z", &ms), 0);
	assert_true(ms == 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (s3_parse_time_ms(bad[i], &ms) == 0)
			fail_msg("accepted %s", bad[i]);
	gfsb_backend_fmt_time(1796527037, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-06T03:17:17Z");
	gfsb_backend_fmt_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	/* What we write, we read back. */
	gfsb_backend_fmt_time(4102444799LL, buf, sizeof(buf));
	assert_int_equal(s3_parse_time_ms(buf, &ms), 0);
	assert_true(ms == 4102444799000LL);
}

/* A HEAD's Object Lock headers, as Ceph and AWS send them. */
static void
test_lock_headers(void **state)
{
	struct gfsb_retention r;

	(void)state;
	assert_int_equal(s3_lock_headers("COMPLIANCE",
	    "2026-12-06T03:17:17.000000000Z", &r), 0);
	assert_int_equal(r.mode, GFSB_LOCK_COMPLIANCE);
	assert_true(r.until == 1796527037);
	assert_int_equal(s3_lock_headers("GOVERNANCE",
	    "2026-12-06T03:17:17.000Z", &r), 0);
	assert_int_equal(r.mode, GFSB_LOCK_GOVERNANCE);
	assert_int_equal(s3_lock_headers("", "", &r), 0);
	assert_int_equal(r.mode, GFSB_LOCK_NONE);
	assert_true(r.until == 0);
	assert_int_equal(s3_lock_headers("compliance",
	    "2026-12-06T03:17:17Z", &r), -1);
	assert_int_equal(s3_lock_headers("COMPLIANCE", "", &r), -1);
	assert_int_equal(s3_lock_headers("", "2026-12-06T03:17:17Z", &r), -1);
	assert_int_equal(s3_lock_headers("COMPLIANCE", "tomorrow", &r), -1);
}

/* A ListVersionsResult as Ceph RGW 16.2 sends it. */
static const char versions_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>b</Name><Prefix>r/config</Prefix><MaxKeys>3</MaxKeys>"
    "<IsTruncated>true</IsTruncated><KeyMarker/><VersionIdMarker/>"
    "<NextKeyMarker>r/config</NextKeyMarker>"
    "<NextVersionIdMarker>v1.x-y</NextVersionIdMarker>"
    "<DeleteMarker><Key>r/config</Key><VersionId>m3</VersionId>"
    "<IsLatest>true</IsLatest>"
    "<LastModified>2026-12-06T03:17:03.801Z</LastModified>"
    "<Owner><ID>gfsb</ID><DisplayName>t</DisplayName></Owner>"
    "<Type>Normal</Type></DeleteMarker>"
    "<Version><Key>r/config</Key><VersionId>v2</VersionId>"
    "<IsLatest>false</IsLatest>"
    "<LastModified>2026-12-06T03:16:55.540Z</LastModified>"
    "<ETag>&quot;5d41&quot;</ETag><Size>77</Size>"
    "<StorageClass>STANDARD</StorageClass>"
    "<Owner><ID>gfsb</ID><DisplayName>t</DisplayName></Owner>"
    "<Type>Normal</Type></Version>"
    "<Version><Key>r/config</Key><VersionId>v1.x-y</VersionId>"
    "<IsLatest>false</IsLatest>"
    "<LastModified>2026-12-06T03:16:55.000Z</LastModified>"
    "<Size>5</Size></Version>"
    "</ListVersionsResult>";

static void
test_xml_versions(void **state)
{
	const char *last = "<ListVersionsResult><IsTruncated>false"
	    "</IsTruncated><Version><Key>k</Key><VersionId>null</VersionId>"
	    "<LastModified>2026-12-06T03:16:55Z</LastModified><Size>1"
	    "</Size></Version></ListVersionsResult>";
	struct s3_version_page pg;

	(void)state;
	assert_int_equal(s3_xml_versions(versions_xml, strlen(versions_xml),
	    1000, &pg), 0);
	assert_int_equal(pg.n, 3);
	assert_true(pg.truncated);
	assert_string_equal(pg.next_key, "r/config");
	assert_string_equal(pg.next_version, "v1.x-y");
	assert_true(pg.v[0].is_marker);
	assert_true(pg.v[0].is_latest);
	assert_string_equal(pg.v[0].version_id, "m3");
	assert_true(pg.v[0].size == 0);
	assert_true(pg.v[0].mtime_ms == 1796527023801LL);
	assert_false(pg.v[1].is_marker);
	assert_false(pg.v[1].is_latest);
	assert_string_equal(pg.v[1].key, "r/config");
	assert_string_equal(pg.v[1].version_id, "v2");
	assert_true(pg.v[1].size == 77);
	assert_true(pg.v[1].mtime_ms == 1796527015540LL);
	assert_true(pg.v[2].size == 5);
	s3_xml_versions_fini(&pg);
	/* The last page: not truncated, no markers needed. */
	assert_int_equal(s3_xml_versions(last, strlen(last), 1000, &pg), 0);
	assert_false(pg.truncated);
	assert_int_equal(pg.n, 1);
	assert_string_equal(pg.v[0].version_id, "null");
	s3_xml_versions_fini(&pg);
	/* More entries than allowed: refused, not cut. */
	assert_int_equal(s3_xml_versions(versions_xml, strlen(versions_xml), 2,
	    &pg), -1);
}

static void
append(struct gfsb_buf *b, const char *s)
{
	assert_int_equal(gfsb_buf_append(b, s, strlen(s)), GFSB_OK);
}

/* Forged or broken version listings: refused whole, never half-read. */
static void
test_xml_versions_hostile(void **state)
{
	static const char *bad[] = {
		"",
		"<ListBucketResult></ListBucketResult>", /* another answer */
		"<ListVersionsResult><Version><Key>k</Key>",
		/* truncated without NextKeyMarker: would loop */
		"<ListVersionsResult><IsTruncated>true</IsTruncated>"
		    "</ListVersionsResult>",
		/* no VersionId */
		"<ListVersionsResult><Version><Key>k</Key><LastModified>"
		    "2026-12-06T03:16:55Z</LastModified></Version>"
		    "</ListVersionsResult>",
		/* no LastModified: cannot be placed in time */
		"<ListVersionsResult><DeleteMarker><Key>k</Key><VersionId>v"
		    "</VersionId></DeleteMarker></ListVersionsResult>",
		/* a date that is not one */
		"<ListVersionsResult><Version><Key>k</Key><VersionId>v"
		    "</VersionId><LastModified>yesterday</LastModified>"
		    "</Version></ListVersionsResult>",
		/* no key */
		"<ListVersionsResult><Version><VersionId>v</VersionId>"
		    "<LastModified>2026-12-06T03:16:55Z</LastModified>"
		    "</Version></ListVersionsResult>",
		"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
		    "<ListVersionsResult><Version><Key>&e;</Key><VersionId>v"
		    "</VersionId><LastModified>2026-12-06T03:16:55Z"
		    "</LastModified></Version></ListVersionsResult>",
	};
	struct s3_version_page pg;
	struct gfsb_buf big;
	size_t i, n;
	int r;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (s3_xml_versions(bad[i], strlen(bad[i]), 1000, &pg) != -1)
			fail_msg("accepted hostile listing %zu", i);
	/* A version id longer than any server's (1024 bytes at most); 1024
	 * itself is taken. */
	gfsb_buf_init(&big);
	for (n = 1024; n <= 1025; n++) {
		big.len = 0;
		append(&big, "<ListVersionsResult><Version><Key>k</Key>"
		    "<VersionId>");
		for (i = 0; i < n; i++)
			append(&big, "v");
		append(&big, "</VersionId><LastModified>2026-12-06T03:16:55Z"
		    "</LastModified></Version></ListVersionsResult>");
		r = s3_xml_versions((const char *)big.data, big.len, 1000,
		    &pg);
		assert_int_equal(r, n == 1024 ? 0 : -1);
		if (r == 0) {
			assert_int_equal(strlen(pg.v[0].version_id), 1024);
			s3_xml_versions_fini(&pg);
		}
	}
	/* A huge page: 200,000 entries, over the hard cap of 100,000 even
	 * when the caller allows more; 100,000 pass. */
	for (n = 100000; n <= 200000; n += 100000) {
		big.len = 0;
		append(&big, "<ListVersionsResult>");
		for (i = 0; i < n; i++)
			append(&big, "<DeleteMarker><Key>k</Key><VersionId>v"
			    "</VersionId><LastModified>2026-12-06T03:16:55Z"
			    "</LastModified></DeleteMarker>");
		append(&big, "</ListVersionsResult>");
		r = s3_xml_versions((const char *)big.data, big.len,
		    (size_t)1 << 30, &pg);
		assert_int_equal(r, n == 100000 ? 0 : -1);
		if (r == 0) {
			assert_int_equal(pg.n, 100000);
			s3_xml_versions_fini(&pg);
		}
	}
	gfsb_buf_fini(&big);
}

static void
test_xml_bucket_config(void **state)
{
	const char *on = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<ObjectLockConfiguration><ObjectLockEnabled>Enabled"
	    "</ObjectLockEnabled></ObjectLockConfiguration>";
	const char *rule = "<ObjectLockConfiguration xmlns=\"http://s3."
	    "amazonaws.com/doc/2006-03-01/\"><ObjectLockEnabled>Enabled"
	    "</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE"
	    "</Mode><Days>30</Days></DefaultRetention></Rule>"
	    "</ObjectLockConfiguration>";
	const char *off = "<ObjectLockConfiguration></ObjectLockConfiguration>";
	const char *ven = "<VersioningConfiguration xmlns=\"http://s3.amazonaws"
	    ".com/doc/2006-03-01/\"><Status>Enabled</Status><MfaDelete>"
	    "Disabled</MfaDelete></VersioningConfiguration>";
	const char *vsus = "<VersioningConfiguration><Status>Suspended</Status>"
	    "</VersioningConfiguration>";
	const char *vnone = "<VersioningConfiguration xmlns=\"http://s3."
	    "amazonaws.com/doc/2006-03-01/\"></VersioningConfiguration>";
	const char *vbad = "<VersioningConfiguration><Status>Maybe</Status>"
	    "</VersioningConfiguration>";
	char body[512];
	int v;

	(void)state;
	v = -1;
	assert_int_equal(s3_xml_lock_config(on, strlen(on), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(s3_xml_lock_config(rule, strlen(rule), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(s3_xml_lock_config(off, strlen(off), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(s3_xml_lock_config(ven, strlen(ven), &v), -1);
	assert_int_equal(s3_xml_lock_config("<x", 2, &v), -1);
	assert_int_equal(s3_xml_versioning(ven, strlen(ven), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(s3_xml_versioning(vsus, strlen(vsus), &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(s3_xml_versioning(vnone, strlen(vnone), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(s3_xml_versioning(vbad, strlen(vbad), &v), -1);
	assert_int_equal(s3_xml_versioning(on, strlen(on), &v), -1);
	/* The Retention we send (PUT ?retention=). */
	v = s3_xml_retention_body("COMPLIANCE", 1796527037, body,
	    sizeof(body));
	assert_int_equal(v, (int)strlen(body));
	assert_string_equal(body, "<Retention xmlns=\"http://s3.amazonaws.com/"
	    "doc/2006-03-01/\"><Mode>COMPLIANCE</Mode><RetainUntilDate>"
	    "2026-12-06T03:17:17Z</RetainUntilDate></Retention>");
	assert_int_equal(s3_xml_retention_body("COMPLIANCE", 1796527037, body,
	    40), -1);
}

/* The as-of rule: of an object's entries at or before the moment, the
 * newest decides; a delete marker hides; ties go to the entry listed first
 * (S3 lists a key's versions newest first). */
static void
test_asof_rule(void **state)
{
	const struct s3_asof_ent *e;
	struct s3_asof_map m;

	(void)state;
	s3_asof_init(&m, 5000, 100);
	/* "a": v3 (after the moment), v2, v1: v2 decides. */
	assert_int_equal(s3_asof_offer(&m, "a", "v3", 30, 6000, 0), 0);
	assert_int_equal(s3_asof_offer(&m, "a", "v2", 20, 4000, 0), 0);
	assert_int_equal(s3_asof_offer(&m, "a", "v1", 10, 1000, 0), 0);
	/* "b": deleted before the moment: hidden, whatever came before. */
	assert_int_equal(s3_asof_offer(&m, "b", "m1", 0, 4500, 1), 0);
	assert_int_equal(s3_asof_offer(&m, "b", "v1", 10, 1000, 0), 0);
	/* "c": deleted after the moment: still there at the moment. */
	assert_int_equal(s3_asof_offer(&m, "c", "m1", 0, 5001, 1), 0);
	assert_int_equal(s3_asof_offer(&m, "c", "v1", 11, 5000, 0), 0);
	/* "d": made after the moment: absent. */
	assert_int_equal(s3_asof_offer(&m, "d", "v1", 10, 5001, 0), 0);
	/* "e": a tie in LastModified: the first listed (newer) wins... */
	assert_int_equal(s3_asof_offer(&m, "e", "new", 2, 3000, 0), 0);
	assert_int_equal(s3_asof_offer(&m, "e", "old", 1, 3000, 0), 0);
	/* ... a marker listed first in a tie hides the version. */
	assert_int_equal(s3_asof_offer(&m, "f", "m", 0, 3000, 1), 0);
	assert_int_equal(s3_asof_offer(&m, "f", "v", 1, 3000, 0), 0);
	/* "g": a server that lists out of date order: the newer still wins. */
	assert_int_equal(s3_asof_offer(&m, "g", "older", 1, 1000, 0), 0);
	assert_int_equal(s3_asof_offer(&m, "g", "newer", 2, 2000, 0), 0);
	/* "a" again, after other keys (an unsorted server): one winner. */
	assert_int_equal(s3_asof_offer(&m, "a", "v2b", 21, 4999, 0), 0);
	s3_asof_finish(&m);
	assert_int_equal(m.n, 4);
	assert_non_null(e = s3_asof_find(&m, "a"));
	assert_string_equal(e->version_id, "v2b");
	assert_true(e->size == 21);
	assert_null(s3_asof_find(&m, "b"));
	assert_non_null(e = s3_asof_find(&m, "c"));
	assert_string_equal(e->version_id, "v1");
	assert_true(e->mtime_ms == 5000);
	assert_null(s3_asof_find(&m, "d"));
	assert_non_null(e = s3_asof_find(&m, "e"));
	assert_string_equal(e->version_id, "new");
	assert_null(s3_asof_find(&m, "f"));
	assert_non_null(e = s3_asof_find(&m, "g"));
	assert_string_equal(e->version_id, "newer");
	/* Sorted by name. */
	assert_string_equal(m.v[0].name, "a");
	assert_string_equal(m.v[3].name, "g");
	s3_asof_fini(&m);
	/* Before anything: empty; history starts with the oldest version,
	 * listed in any order, whatever the moment (markers aside). */
	s3_asof_init(&m, 999, 100);
	assert_true(m.oldest_ms == 0);
	assert_int_equal(s3_asof_offer(&m, "a", "m1", 0, 900, 1), 0);
	assert_true(m.oldest_ms == 0);
	assert_int_equal(s3_asof_offer(&m, "a", "v2", 10, 2500, 0), 0);
	assert_int_equal(s3_asof_offer(&m, "a", "v1", 10, 1001, 0), 0);
	assert_int_equal(s3_asof_offer(&m, "b", "v1", 10, 1700, 0), 0);
	s3_asof_finish(&m);
	assert_int_equal(m.n, 0);
	assert_null(s3_asof_find(&m, "a"));
	assert_true(m.oldest_ms == 1001);
	s3_asof_fini(&m);
	/* The cap on names kept: refused, not silently cut. */
	s3_asof_init(&m, 5000, 2);
	assert_int_equal(s3_asof_offer(&m, "a", "v", 1, 1, 0), 0);
	assert_int_equal(s3_asof_offer(&m, "a", "w", 1, 2, 0), 0);
	assert_int_equal(s3_asof_offer(&m, "b", "v", 1, 1, 0), 0);
	assert_int_equal(s3_asof_offer(&m, "c", "v", 1, 1, 0), -2);
	s3_asof_fini(&m);
}

/* Repository URLs and endpoints: what opens, and what is a usage error
 * (GFSB_EINVAL) before any request is made. */
static gfsb_err
try_open(const char *url, const char *endpoint)
{
	struct gfsb_backend_opts o;
	struct gfsb_backend *be = NULL;
	struct gfsb_ctx *ctx;
	gfsb_err e;

	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	memset(&o, 0, sizeof(o));
	o.s3_endpoint = endpoint;
	e = gfsb_backend_open_opts(ctx, url, &o, &be);
	if (e == GFSB_OK) {
		assert_true(gfsb_backend_is_remote(be) ==
		    (strncmp(url, "s3://", 5) == 0));
		gfsb_backend_close(be);
	} else {
		assert_true(gfsb_ctx_errmsg(ctx)[0] != '\0');
	}
	gfsb_ctx_free(ctx);
	return e;
}

static void
test_urls(void **state)
{
	static const char *const good[] = {
		"s3://bucket/prefix", "s3://bucket", "s3://bucket/",
		"s3://my.bucket-1/a b/ä+=&%20~(1)/x", "s3://bucket/a/b/c/",
	};
	static const char *const bad[] = {
		"s3://", "s3:///x", "s3://Bad_Bucket/x", "s3://ab/x",
		"s3://bucket/a//b", "s3://bucket/../x", "s3://bucket/a/./b",
		"s3://bucket/a/..", "s3://bucket/a\tb", "s3:/bucket/x",
		"s3:bucket", "S3://bucket/x", "http://bucket/x", "ftp://x/y",
		"",
	};
	static const char *const good_ep[] = {
		"http://127.0.0.1:9000", "https://s3.example.com",
		"http://[::1]:8080", "https://host/", "http://a-b.c_d:1",
	};
	static const char *const bad_ep[] = {
		"ftp://127.0.0.1", "http://", "127.0.0.1:9000",
		"http://h:99999", "http://h:0", "http://h:", "http://h:80x",
		"http://h/path", "http://[::1", "http://[]:80", "http://h h",
		"http://user@h",
	};
	size_t i;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", AK, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SK, 1);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (try_open(good[i], "http://127.0.0.1:9") != GFSB_OK)
			fail_msg("refused %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (try_open(bad[i], "http://127.0.0.1:9") != GFSB_EINVAL)
			fail_msg("accepted %s", bad[i]);
	for (i = 0; i < sizeof(good_ep) / sizeof(good_ep[0]); i++)
		if (try_open("s3://bucket/x", good_ep[i]) != GFSB_OK)
			fail_msg("refused endpoint %s", good_ep[i]);
	for (i = 0; i < sizeof(bad_ep) / sizeof(bad_ep[0]); i++)
		if (try_open("s3://bucket/x", bad_ep[i]) != GFSB_EINVAL)
			fail_msg("accepted endpoint %s", bad_ep[i]);
	/* No credentials at all: refused before any request. */
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_int_not_equal(try_open("s3://bucket/x", "http://127.0.0.1:9"),
	    GFSB_OK);
}

int
main(void)
{
	struct gfsb_ctx *ctx;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_get_object),
		cmocka_unit_test(test_aws_put_object),
		cmocka_unit_test(test_aws_get_lifecycle),
		cmocka_unit_test(test_aws_list_objects),
		cmocka_unit_test(test_signature_binds_everything),
		cmocka_unit_test(test_uri_encode),
		cmocka_unit_test(test_xml_list),
		cmocka_unit_test(test_xml_hostile),
		cmocka_unit_test(test_xml_multipart),
		cmocka_unit_test(test_content_md5),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_lock_headers),
		cmocka_unit_test(test_xml_versions),
		cmocka_unit_test(test_xml_versions_hostile),
		cmocka_unit_test(test_xml_bucket_config),
		cmocka_unit_test(test_asof_rule),
		cmocka_unit_test(test_urls),
	};

	if (gfsb_ctx_new(&ctx) != GFSB_OK)
		return 1;
	gfsb_ctx_free(ctx);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
