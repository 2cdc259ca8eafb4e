/*
 * AWS Signature Version 4 for S3, done here rather than by libcurl: the
 * canonical request must match what is sent byte for byte (query order,
 * percent-encoding, the payload hash header), and a signer of our own can
 * be tested against AWS's published examples.  Beside it, the other bits
 * of a request's integrity and S3's dates: Content-MD5, and parsing the
 * ISO 8601 times S3 answers with.
 *
 * The payload hash is the SHA-256 of the body.  For hash-named objects it
 * is the object's name, computed once when the object was made: S3 then
 * rejects any upload whose bytes do not match their name.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sodium.h>

#include <gfsbackup/crypto.h>

#include "s3_internal.h"

int
s3_uri_encode(const char *in, char *out, size_t len, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char c;

	for (; *in != '\0'; in++) {
		c = (unsigned char)*in;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~' || (keep_slash && c == '/')) {
			if (o + 1 >= len)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= len)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= len)
		return -1;
	out[o] = '\0';
	return 0;
}

void
s3_amz_date(char out[17], int64_t t)
{
	struct tm tm;
	time_t tt = t ? (time_t)t : time(NULL);

	gmtime_r(&tt, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/*
 * Content-MD5 is sent beside the signed SHA-256: AWS refuses a PUT to a
 * bucket with default Object Lock retention without it (or an
 * x-amz-checksum-* header, which Ceph 16 does not know), and RGW checks it
 * too.  MD5 is no defence against a forger here, only against damage; the
 * SHA-256 in the signature is the defence.
 */
int
s3_content_md5(const void *p, size_t n, char out[25])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	/* An OpenSSL in FIPS mode has no MD5. */
	if (EVP_Digest(p, n, d, &len, EVP_md5(), NULL) != 1 || len != 16)
		return -1;
	sodium_bin2base64(out, 25, d, 16, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

int
s3_parse_time_ms(const char *s, int64_t *ms)
{
	struct gfsb_time t;

	if (gfsb_time_parse_rfc3339(s, &t) != GFSB_OK)
		return -1;
	*ms = t.sec * 1000 + t.nsec / 1000000;
	return 0;
}

static void
hmac(uint8_t out[32], const void *key, size_t keylen, const char *msg)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg,
	    strlen(msg));
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* Append a header value trimmed, with inner runs of spaces folded. */
static int
put_trimmed(char *out, size_t len, size_t *o, const char *v)
{
	int space = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t') {
			space = 1;
			continue;
		}
		if (space && *o + 1 < len)
			out[(*o)++] = ' ';
		space = 0;
		if (*o + 1 >= len)
			return -1;
		out[(*o)++] = *v;
	}
	out[*o] = '\0';
	return 0;
}

int
s3_sign(const struct s3_sign_req *r, char *auth, size_t len)
{
	char canon[8192], sts[1024], scope[128], date[9], hexhash[65],
	    sig[65], signed_headers[512], kbuf[256];
	const struct s3_header *sorted[16], *t;
	uint8_t h[32], k[32];
	size_t i, j, o = 0, so = 0;
	int n;

	if (r->nh > 16)
		return -1;
	for (i = 0; i < r->nh; i++)
		sorted[i] = &r->h[i];
	for (i = 1; i < r->nh; i++)
		for (j = i; j > 0 && strcmp(sorted[j - 1]->name,
		    sorted[j]->name) > 0; j--) {
			t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	memcpy(date, r->amz_date, 8);
	date[8] = '\0';
	n = snprintf(canon, sizeof(canon), "%s\n%s\n%s\n", r->method,
	    r->path, r->query);
	if (n < 0 || (size_t)n >= sizeof(canon))
		return -1;
	o = (size_t)n;
	signed_headers[0] = '\0';
	for (i = 0; i < r->nh; i++) {
		n = snprintf(canon + o, sizeof(canon) - o, "%s:",
		    sorted[i]->name);
		if (n < 0 || (size_t)n >= sizeof(canon) - o)
			return -1;
		o += (size_t)n;
		if (put_trimmed(canon, sizeof(canon) - 1, &o,
		    sorted[i]->value) != 0)
			return -1;
		canon[o++] = '\n';
		n = snprintf(signed_headers + so, sizeof(signed_headers) - so,
		    "%s%s", i ? ";" : "", sorted[i]->name);
		if (n < 0 || (size_t)n >= sizeof(signed_headers) - so)
			return -1;
		so += (size_t)n;
	}
	n = snprintf(canon + o, sizeof(canon) - o, "\n%s\n%s",
	    signed_headers, r->payload_hash);
	if (n < 0 || (size_t)n >= sizeof(canon) - o)
		return -1;
	o += (size_t)n;
	gfsb_crypto_sha256_hex(canon, o, hexhash);
	snprintf(scope, sizeof(scope), "%s/%s/s3/aws4_request", date,
	    r->region);
	snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s",
	    r->amz_date, scope, hexhash);
	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
	 * "s3"), "aws4_request") */
	if (snprintf(kbuf, sizeof(kbuf), "AWS4%s", r->secret_key) >=
	    (int)sizeof(kbuf))
		return -1;
	hmac(k, kbuf, strlen(kbuf), date);
	sodium_memzero(kbuf, sizeof(kbuf));
	hmac(k, k, 32, r->region);
	hmac(k, k, 32, "s3");
	hmac(k, k, 32, "aws4_request");
	hmac(h, k, 32, sts);
	sodium_memzero(k, sizeof(k));
	gfsb_hex_encode(h, sizeof(h), sig);
	n = snprintf(auth, len, "AWS4-HMAC-SHA256 Credential=%s/%s,"
	    "SignedHeaders=%s,Signature=%s", r->access_key, scope,
	    signed_headers, sig);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}
