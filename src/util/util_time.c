/*
 * Time: parsing operator input, RFC 3339 for the formats, monotonic clocks.
 *
 * Snapshot times are stored as RFC 3339 with the local UTC offset, as restic
 * does, so that `snapshots --json` carries over to restic tooling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gfsbackup/util.h>

void
gfsb_time_now(struct gfsb_time *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->nsec = (int32_t)ts.tv_nsec;
}

double
gfsb_monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
gfsb_time_cmp(const struct gfsb_time *a, const struct gfsb_time *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return 0;
}

/* Parse exactly n digits. */
static int
digits(const char **pp, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if ((*pp)[i] < '0' || (*pp)[i] > '9')
			return -1;
		v = v * 10 + ((*pp)[i] - '0');
	}
	*pp += n;
	*out = v;
	return 0;
}

/* Parse "YYYY-MM-DD[ T]HH:MM:SS" into tm; return the rest of the string. */
static const char *
parse_datetime(const char *p, struct tm *tm)
{
	int y, mo, d, h, mi, s;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return NULL;
	if (*p != ' ' && *p != 'T')
		return NULL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &s))
		return NULL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    s > 60)
		return NULL;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = s;
	return p;
}

gfsb_err
gfsb_time_parse_local(const char *s, struct gfsb_time *t)
{
	struct tm tm, chk;
	const char *p;
	time_t tt;

	if ((p = parse_datetime(s, &tm)) == NULL || *p != '\0')
		return GFSB_EINVAL;
	tm.tm_isdst = -1;
	chk = tm;
	if ((tt = mktime(&tm)) == (time_t)-1)
		return GFSB_EINVAL;
	/* Reject dates mktime had to normalise, such as February 30. */
	if (tm.tm_mday != chk.tm_mday || tm.tm_mon != chk.tm_mon)
		return GFSB_EINVAL;
	t->sec = tt;
	t->nsec = 0;
	return GFSB_OK;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

gfsb_err
gfsb_time_parse_rfc3339(const char *s, struct gfsb_time *t)
{
	struct tm tm;
	const char *p;
	int32_t nsec = 0;
	int n = 0, oh, om, sign;
	int64_t sec;

	if ((p = parse_datetime(s, &tm)) == NULL)
		return GFSB_EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return GFSB_EINVAL;
		for (; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 9)
				nsec = nsec * 10 + (*p - '0');
		for (; n < 9; n++)
			nsec *= 10;
	}
	sec = days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) *
	    86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return GFSB_EINVAL;
		sec -= sign * (oh * 3600 + om * 60);
	} else {
		return GFSB_EINVAL;
	}
	if (*p != '\0')
		return GFSB_EINVAL;
	t->sec = sec;
	t->nsec = nsec;
	return GFSB_OK;
}

void
gfsb_time_format_rfc3339(const struct gfsb_time *t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t->sec;
	long off;
	char base[32];

	localtime_r(&tt, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	if (off == 0 && t->nsec == 0)
		snprintf(buf, len, "%sZ", base);
	else if (off == 0)
		snprintf(buf, len, "%s.%09dZ", base, (int)t->nsec);
	else
		snprintf(buf, len, "%s.%09d%c%02ld:%02ld", base, (int)t->nsec,
		    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

void
gfsb_time_format_local(const struct gfsb_time *t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t->sec;

	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}
