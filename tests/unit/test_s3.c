/* S3: the SigV4 signer against AWS's published examples ("Examples of
 * signature calculations", Amazon S3 API reference), percent-encoding,
 * and the XML readers on real and hostile answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/crypto.h>
#include <gfsbackup/util.h>

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
	    "</Key><UploadId>u1</UploadId></Upload><Upload><Key>r/y</Key>"
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
	assert_false(trunc);
	for (i = 0; i < n; i++) {
		free(u[i].key);
		free(u[i].id);
	}
	free(u);
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
		cmocka_unit_test(test_urls),
	};

	if (gfsb_ctx_new(&ctx) != GFSB_OK)
		return 1;
	gfsb_ctx_free(ctx);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
