/*
 * Text helpers: hex encoding and byte counts for people.
 */
#include <stdio.h>
#include <string.h>

#include <gfsbackup/util.h>

void
gfsb_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

gfsb_err
gfsb_hex_decode(const char *hex, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(hex) != 2 * n)
		return GFSB_EINVAL;
	for (i = 0; i < n; i++) {
		hi = hexval(hex[2 * i]);
		lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return GFSB_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return GFSB_OK;
}

gfsb_err
gfsb_size_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return GFSB_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return GFSB_EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case 'k': case 'K': mul = 1ULL << 10; p++; break;
	case 'm': case 'M': mul = 1ULL << 20; p++; break;
	case 'g': case 'G': mul = 1ULL << 30; p++; break;
	case 't': case 'T': mul = 1ULL << 40; p++; break;
	default: break;
	}
	if (mul != 1 && p[0] == 'i' && p[1] == 'B')
		p += 2;
	else if (*p == 'B')
		p++;
	if (*p != '\0')
		return GFSB_EINVAL;
	if (v > UINT64_MAX / mul)
		return GFSB_EINVAL;
	*out = v * mul;
	return GFSB_OK;
}

char *
gfsb_size_format(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
		"PiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.*f %s", v < 10 ? 2 : (v < 100 ? 1 : 0), v,
	    units[u]);
	return buf;
}

char *
gfsb_duration_format(double seconds, char *buf, size_t len)
{
	long long s, m;

	if (!(seconds >= 0)) { /* negative, NaN */
		snprintf(buf, len, "unknown");
		return buf;
	}
	if (seconds >= 1e9) {
		snprintf(buf, len, "%.0f h", seconds / 3600);
		return buf;
	}
	/* Up, never down: a projection is not shown shorter than it is,
	 * so "4 h" means at most four hours. */
	s = (long long)seconds;
	if (s < seconds)
		s++;
	m = (s + 59) / 60;
	if (s < 60)
		snprintf(buf, len, "%lld s", s);
	else if (m < 60)
		snprintf(buf, len, "%lld min", m);
	else if (m % 60 == 0)
		snprintf(buf, len, "%lld h", m / 60);
	else
		snprintf(buf, len, "%lld h %lld min", m / 60, m % 60);
	return buf;
}

int
gfsb_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;
	size_t n, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			c = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			c = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			c = *p & 0x07;
		} else {
			return 0;
		}
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (p[i] & 0x3f);
		}
		/* No overlong form, no surrogate, nothing past U+10FFFF. */
		if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) ||
		    (n == 3 && c < 0x10000) || (c >= 0xd800 && c <= 0xdfff) ||
		    c > 0x10ffff)
			return 0;
		p += n + 1;
	}
	return 1;
}
