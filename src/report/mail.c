/*
 * mail: deliver the report as one email over SMTP with libcurl.
 *
 * The message is composed here, byte for byte, and uploaded through curl's
 * read callback; curl only speaks the protocol (EHLO, STARTTLS, AUTH, MAIL,
 * RCPT, DATA) and does the SMTP dot-stuffing of the body on the fly.  We do
 * not use curl's mime API: up to at least curl 8.x the top-level type it
 * writes for an SMTP CURLOPT_MIMEPOST is always multipart/mixed (a
 * Content-Type set with CURLOPT_HTTPHEADER is ignored for the root part),
 * so an alternative would have to be nested inside a mixed part, which some
 * clients show as an attachment list; and composing ourselves pins every
 * byte (line lengths, encodings) so the tests can check it.
 *
 * Invariants of the composed message:
 *   - every line ends in CRLF and is at most 78 octets (998 is the limit);
 *   - no line starts with '.' (quoted-printable encodes it as =2E), so the
 *     message survives a relay that forgets dot-stuffing, and no line
 *     starts with "From " (encoded =46rom), so it survives mbox delivery;
 *   - the boundary starts with "=_", which quoted-printable output can never
 *     contain, so it cannot collide with the parts;
 *   - header values carry no CR or LF from the caller (header injection is
 *     refused with GFSB_EINVAL before anything is sent).
 *
 * The SMTP password is read from a file that only its owner can read, held
 * in sodium_malloc memory and wiped on every path; it never appears in an
 * error or log line.  To tell which recipients the server refused (curl
 * only reports "all failed"), the protocol is watched through curl's debug
 * callback, which sees each command and reply line; it looks at the
 * command verbs and reply codes only and skips AUTH exchanges entirely.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include <gfsbackup/report.h>
#include <gfsbackup/util.h>

#ifndef GFSB_VERSION
#define GFSB_VERSION "unknown"
#endif

#define PASSWORD_MAX 1024 /* longest password accepted from the file */
#define ADDR_MAX 254      /* RFC 5321 path limit, minus the brackets */
#define QP_MAX 76         /* quoted-printable line length, with "=" */
#define HDR_FOLD 78       /* fold header lines longer than this */
/* Subject bytes per encoded word: 56 base64 characters, 68 with "=?UTF-8?B?"
 * and "?=", so "Subject: " and the first word fit in 78 columns. */
#define WORD_BYTES 42
#define RESP_MAX 200 /* server reply text kept for messages */
#define CONNECT_TIMEOUT_S 10L
#define DEFAULT_TIMEOUT_S 60L

/* curl 8.2 renamed CURLOPT_MAIL_RCPT_ALLLOWFAILS (three L's, a typo) to
 * CURLOPT_MAIL_RCPT_ALLOWFAILS.  Both are enum constants, not macros (8.2+
 * keeps the old spelling as a #define alias), so test the version. */
#if LIBCURL_VERSION_NUM >= 0x080200
#define OPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLOWFAILS
#else
#define OPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS
#endif

/* The SMTP command a reply answers, as far as the watcher cares. */
enum smtp_cmd {
	CMD_NONE = 0,
	CMD_GREETING,
	CMD_EHLO,
	CMD_STARTTLS,
	CMD_AUTH,
	CMD_MAIL,
	CMD_RCPT,
	CMD_DATA,
	CMD_QUIT,
	CMD_OTHER
};

/* What one RCPT TO got back. */
struct rcpt_reply {
	int code; /* 0: never answered */
	char text[RESP_MAX];
};

/* State shared with curl's callbacks during one transfer. */
struct xfer {
	struct gfsb_ctx *ctx;
	/* The message being uploaded. */
	const uint8_t *msg;
	size_t len, off;
	/* The protocol watcher. */
	enum smtp_cmd cmd; /* the command last sent */
	int saw_auth;      /* an AUTH command was sent */
	size_t nrcpt_sent; /* RCPT TO commands sent so far */
	size_t nto;
	struct rcpt_reply *rcpt; /* nto entries */
	int fail_code;           /* last failing reply (>= 400), not RCPT */
	enum smtp_cmd fail_cmd;
	char fail_text[RESP_MAX];
	char last_text[RESP_MAX]; /* the last final reply line of any kind */
};

/* Copy at most n - 1 bytes of s (of length len) to out, control bytes
 * replaced by '?', so that a hostile value cannot break a log line. */
static void
printable(const char *s, size_t len, char *out, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < len && s[i] != '\0' && j + 1 < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[j] = '\0';
}

/*
 * Whether a looks like a mail address we can put both in an SMTP path and
 * in a header unquoted: one '@' with text either side, ASCII only (an
 * internationalised address would need SMTPUTF8 and a UTF-8 header), no
 * whitespace, control bytes, '<', '>', ',' or other specials that would
 * need quoting, and not too long.
 */
static int
addr_ok(const char *a)
{
	size_t i, at = 0, nat = 0;

	for (i = 0; a[i] != '\0'; i++) {
		unsigned char c = (unsigned char)a[i];

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' ||
		    c == ',' || c == '"' || c == '(' || c == ')' || c == ';' ||
		    c == '\\')
			return 0;
		if (c == '@') {
			nat++;
			at = i;
		}
	}
	return nat == 1 && at > 0 && a[at + 1] != '\0' && i <= ADDR_MAX;
}

/* Non-zero if s holds CR or LF (a C string cannot hold NUL). */
static int
has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* A message being composed: appends stop at the first failure, which is
 * checked once at the end (oom). */
struct out {
	struct gfsb_buf b;
	int oom;
};

/* Append n bytes to o. */
static void
put(struct out *o, const void *p, size_t n)
{
	if (o->oom)
		return;
	if (gfsb_buf_append(&o->b, p, n) != GFSB_OK)
		o->oom = 1;
}

/* Append a string to o. */
static void
put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Append a formatted string (at most 511 bytes) to o. */
static void GFSB_PRINTF(2, 3) putf(struct out *o, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		o->oom = 1;
		return;
	}
	put(o, tmp, (size_t)n);
}

/*
 * The Date header value for now, in RFC 5322 form and UTC, built from
 * fixed tables so that the locale (LC_TIME) cannot change it.
 */
static void
rfc5322_date(char *buf, size_t len)
{
	static const char *const days[] = {
	    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11) {
		snprintf(buf, len, "Thu, 01 Jan 1970 00:00:00 +0000");
		return;
	}
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* This host's name if it is a valid domain for a Message-ID, else
 * "localhost". */
static void
msgid_host(char *buf, size_t len)
{
	size_t i;

	gfsb_sys_hostname(buf, len);
	for (i = 0; buf[i] != '\0'; i++) {
		char c = buf[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '.'))
			break;
	}
	if (i == 0 || buf[i] != '\0')
		snprintf(buf, len, "localhost");
}

/* Whether the subject can go into the header as it is: printable ASCII,
 * nothing a decoder would take for an encoded word, no blank at either end
 * (unfolding would lose it), and short enough that even an unfoldable
 * line stays within 998 octets. */
static int
subject_plain(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return strstr(s, "=?") == NULL && i < 900 &&
	       (i == 0 || (s[0] != ' ' && s[i - 1] != ' '));
}

/*
 * Append "Subject: ...\r\n".  A plain subject is folded before spaces to
 * keep lines near HDR_FOLD (unfolding removes only the CRLF, so the value
 * is unchanged).  Any other is sent as RFC 2047 "B" encoded words of at
 * most WORD_BYTES bytes each (so each word is at most 68 characters, within
 * the 75 allowed), cut only between UTF-8 sequences, one per line; a
 * decoder joins adjacent encoded words without the folding space.
 */
static void
put_subject(struct out *o, const char *s)
{
	char b64[sodium_base64_ENCODED_LEN(
	    WORD_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	size_t len = strlen(s), off = 0, n, col;
	const char *sp;

	if (subject_plain(s)) {
		put_str(o, "Subject: ");
		col = 9;
		while (*s != '\0') {
			/* The next word, with the space before it. */
			sp = strchr(s + 1, ' ');
			n = sp == NULL ? strlen(s) : (size_t)(sp - s);
			if (*s == ' ' && col > 9 && col + n > HDR_FOLD) {
				put_str(o, "\r\n");
				col = 0;
			}
			put(o, s, n);
			col += n;
			s += n;
		}
		put_str(o, "\r\n");
		return;
	}
	put_str(o, "Subject:");
	if (len == 0) {
		put_str(o, "\r\n");
		return;
	}
	while (off < len) {
		n = len - off;
		if (n > WORD_BYTES) {
			n = WORD_BYTES;
			/* Back off to the start of a UTF-8 sequence. */
			while (
			    n > 0 && ((unsigned char)s[off + n] & 0xC0) == 0x80)
				n--;
			if (n == 0) /* not UTF-8: cut anywhere */
				n = WORD_BYTES;
		}
		sodium_bin2base64(b64, sizeof(b64),
		    (const unsigned char *)s + off, n,
		    sodium_base64_VARIANT_ORIGINAL);
		putf(o, "%s=?UTF-8?B?%s?=", off == 0 ? " " : "\r\n ", b64);
		off += n;
	}
	put_str(o, "\r\n");
}

/* Append "To: a, b, ...\r\n", folded after commas near HDR_FOLD. */
static void
put_to(struct out *o, const char *const *to, size_t nto)
{
	size_t i, col = 3, n;

	put_str(o, "To:");
	for (i = 0; i < nto; i++) {
		n = strlen(to[i]);
		if (i > 0 && col + 2 + n > HDR_FOLD) {
			put_str(o, ",\r\n");
			col = 0;
		} else if (i > 0) {
			put_str(o, ",");
			col++;
		}
		put_str(o, " ");
		put_str(o, to[i]);
		col += 1 + n;
	}
	put_str(o, "\r\n");
}

/* Whether p (inside [p, end)) is at a line break: "\n" or "\r\n", or at
 * the end of the input. */
static int
at_break(const char *p, const char *end)
{
	return p == end || *p == '\n' ||
	       (*p == '\r' && p + 1 < end && p[1] == '\n');
}

/*
 * Append s encoded as quoted-printable (RFC 2045 6.7) with CRLF line
 * breaks: "\n" and "\r\n" in s are hard line breaks, lines are at most
 * QP_MAX characters with "=" soft breaks, and a line never starts with '.'
 * or "From " (both encoded).  Whitespace before a hard break is encoded.
 */
static void
put_qp(struct out *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *p = s, *end = s + strlen(s);
	size_t col = 0, n;
	unsigned char c;
	char tok[3];
	int enc;

	while (p < end) {
		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
			put_str(o, "\r\n");
			col = 0;
			p += *p == '\r' ? 2 : 1;
			continue;
		}
		c = (unsigned char)*p;
		for (;;) {
			if (c == ' ' || c == '\t')
				enc = at_break(p + 1, end);
			else
				enc = c < 33 || c > 126 || c == '=';
			if (col == 0 &&
			    (c == '.' || (c == 'F' && (size_t)(end - p) >= 5 &&
			                     memcmp(p, "From ", 5) == 0)))
				enc = 1;
			n = enc ? 3 : 1;
			/* Leave room for the "=" of a soft break, unless this
			 * is the last character of the line. */
			if (col + n <= QP_MAX - 1 ||
			    (col + n <= QP_MAX && at_break(p + 1, end)))
				break;
			put_str(o, "=\r\n");
			col = 0;
		}
		if (enc) {
			tok[0] = '=';
			tok[1] = hex[c >> 4];
			tok[2] = hex[c & 15];
			put(o, tok, 3);
		} else {
			put(o, p, 1);
		}
		col += n;
		p++;
	}
}

/*
 * Compose the whole message into *out (the caller frees it with
 * gfsb_buf_fini).  GFSB_ENOMEM.
 */
static gfsb_err
compose(const struct gfsb_mail_opts *o, const char *subject, const char *text,
    const char *html, struct gfsb_buf *out)
{
	uint8_t rnd[16], brnd[12];
	char hrnd[sizeof(rnd) * 2 + 1], hb[sizeof(brnd) * 2 + 1];
	char date[64], host[256], boundary[64];
	struct out m;

	gfsb_buf_init(&m.b);
	m.oom = 0;
	randombytes_buf(rnd, sizeof(rnd));
	randombytes_buf(brnd, sizeof(brnd));
	gfsb_hex_encode(rnd, sizeof(rnd), hrnd);
	gfsb_hex_encode(brnd, sizeof(brnd), hb);
	snprintf(boundary, sizeof(boundary), "=_gfsb_%s", hb);
	rfc5322_date(date, sizeof(date));
	msgid_host(host, sizeof(host));

	putf(&m, "Date: %s\r\n", date);
	putf(&m, "From: %s\r\n", o->from);
	put_to(&m, o->to, o->nto);
	put_subject(&m, subject);
	putf(&m, "Message-ID: <%s.%lld@%.200s>\r\n", hrnd,
	    (long long)time(NULL), host);
	put_str(&m, "MIME-Version: 1.0\r\n");
	put_str(&m, "X-Mailer: gfsbackup " GFSB_VERSION "\r\n");
	/* RFC 3834: keeps vacation responders from answering the report. */
	put_str(&m, "Auto-Submitted: auto-generated\r\n");
	putf(&m,
	    "Content-Type: multipart/alternative;\r\n"
	    " boundary=\"%s\"\r\n",
	    boundary);
	put_str(&m, "\r\nThis is a multi-part message in MIME format.\r\n");

	putf(&m, "\r\n--%s\r\n", boundary);
	put_str(&m, "Content-Type: text/plain; charset=UTF-8\r\n"
	            "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	put_qp(&m, text);
	putf(&m, "\r\n--%s\r\n", boundary);
	put_str(&m, "Content-Type: text/html; charset=UTF-8\r\n"
	            "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	put_qp(&m, html);
	putf(&m, "\r\n--%s--\r\n", boundary);

	if (m.oom) {
		gfsb_buf_fini(&m.b);
		return GFSB_ENOMEM;
	}
	*out = m.b;
	return GFSB_OK;
}

/*
 * Read the first line of the password file into *out (sodium_malloc'd;
 * the caller releases it with sodium_free, which wipes it).  GFSB_EINVAL
 * (naming the file, never its content) when it cannot be read, is not a
 * regular file, is open to group or others, is empty or too long;
 * GFSB_ENOMEM.
 */
static gfsb_err
read_password(struct gfsb_ctx *ctx, const char *path, char **out)
{
	struct stat st;
	char *pw = NULL, *nl;
	size_t n = 0;
	ssize_t r;
	int fd = -1;
	gfsb_err e = GFSB_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "cannot read the SMTP password file %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "the SMTP password file %s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "the SMTP password file %s is accessible by group or "
		    "others (mode %04o): chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((pw = sodium_malloc(PASSWORD_MAX + 2)) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	/* Read one byte more than allowed, to tell "too long". */
	while (n < PASSWORD_MAX + 1) {
		r = read(fd, pw + n, PASSWORD_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
			    "cannot read the SMTP password file %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	pw[n] = '\0';
	if ((nl = memchr(pw, '\n', n)) != NULL) {
		*nl = '\0';
		n = (size_t)(nl - pw);
	} else if (n > PASSWORD_MAX) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "the SMTP password file %s: first line longer than %d "
		    "bytes",
		    path, PASSWORD_MAX);
		goto out;
	}
	while (n > 0 && pw[n - 1] == '\r')
		pw[--n] = '\0';
	if (n == 0 || strlen(pw) != n) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "the SMTP password file %s: %s", path,
		    n == 0 ? "empty first line" : "password holds a NUL byte");
		goto out;
	}
	*out = pw;
	pw = NULL;
out:
	if (fd != -1)
		close(fd);
	if (pw != NULL)
		sodium_free(pw); /* zeroes the memory before freeing it */
	return e;
}

/* curl read callback: hand out the composed message. */
static size_t
on_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nitems;

	if (n > x->len - x->off)
		n = x->len - x->off;
	memcpy(buf, x->msg + x->off, n);
	x->off += n;
	return n;
}

/* curl progress callback: stop when the context is cancelled. */
static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct xfer *x = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return gfsb_ctx_canceled(x->ctx) ? 1 : 0;
}

/* Whether the command line p (n bytes) starts with verb, any case. */
static int
verb_is(const char *p, size_t n, const char *verb)
{
	size_t vl = strlen(verb);

	return n >= vl && strncasecmp(p, verb, vl) == 0;
}

/* Note the command curl sends.  While an AUTH exchange runs, the lines
 * are credentials: they are not even classified. */
static void
watch_out(struct xfer *x, const char *p, size_t n)
{
	if (x->cmd == CMD_AUTH)
		return;
	if (verb_is(p, n, "RCPT TO:")) {
		x->cmd = CMD_RCPT;
		x->nrcpt_sent++;
	} else if (verb_is(p, n, "MAIL FROM:"))
		x->cmd = CMD_MAIL;
	else if (verb_is(p, n, "AUTH ")) {
		x->cmd = CMD_AUTH;
		x->saw_auth = 1;
	} else if (verb_is(p, n, "STARTTLS"))
		x->cmd = CMD_STARTTLS;
	else if (verb_is(p, n, "EHLO ") || verb_is(p, n, "HELO "))
		x->cmd = CMD_EHLO;
	else if (verb_is(p, n, "DATA"))
		x->cmd = CMD_DATA;
	else if (verb_is(p, n, "QUIT"))
		x->cmd = CMD_QUIT;
	else
		x->cmd = CMD_OTHER;
}

/* Note one reply line from the server ("250 ok", "550-...", "550 ..."). */
static void
watch_in(struct xfer *x, const char *p, size_t n)
{
	char text[RESP_MAX];
	size_t len = n, idx;
	int code;

	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len < 3 || p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9')
		return;
	if (len > 3 && p[3] != ' ')
		return; /* a continuation line of a multi-line reply */
	code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	printable(p, len, text, sizeof(text));
	snprintf(x->last_text, sizeof(x->last_text), "%s", text);
	if (x->cmd == CMD_AUTH && code != 334) {
		x->cmd = CMD_OTHER; /* the exchange is over */
		if (code >= 400) {
			x->fail_code = code;
			x->fail_cmd = CMD_AUTH;
			snprintf(
			    x->fail_text, sizeof(x->fail_text), "%s", text);
		}
		return;
	}
	if (x->cmd == CMD_RCPT) {
		idx = x->nrcpt_sent - 1;
		if (idx < x->nto) {
			x->rcpt[idx].code = code;
			snprintf(x->rcpt[idx].text, sizeof(x->rcpt[idx].text),
			    "%s", text);
		}
		return;
	}
	if (code >= 400) {
		x->fail_code = code;
		x->fail_cmd = x->cmd;
		snprintf(x->fail_text, sizeof(x->fail_text), "%s", text);
	}
}

/* curl debug callback: the protocol watcher (see the top of the file). */
static int
on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ud)
{
	struct xfer *x = ud;
	const char *p = data, *end = data + size, *nl;

	(void)c;
	if (type == CURLINFO_HEADER_OUT) {
		watch_out(x, data, size);
		return 0;
	}
	if (type != CURLINFO_HEADER_IN)
		return 0;
	/* Usually one line per call, but do not count on it. */
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl == NULL ? end : nl + 1;
		watch_in(x, p, (size_t)(nl - p));
		p = nl;
	}
	return 0;
}

/* Whether a curl error is about TLS: the handshake or the certificate. */
static int
is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
		return 1;
	default:
		return 0;
	}
}

/*
 * Turn a failed transfer into an error code and one line naming the
 * server (where) and what happened.
 */
static gfsb_err
transfer_error(struct gfsb_ctx *ctx, const struct xfer *x, CURLcode rc,
    const char *errbuf, const char *where, const char *from, const char *user)
{
	const char *detail =
	    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
	size_t i, nrefused = 0;

	for (i = 0; i < x->nto; i++)
		if (x->rcpt[i].code >= 400)
			nrefused++;

	if (rc == CURLE_ABORTED_BY_CALLBACK && gfsb_ctx_canceled(ctx))
		return gfsb_ctx_seterr(ctx, GFSB_ECANCELED,
		    "mail server %s: sending interrupted", where);
	if (rc == CURLE_LOGIN_DENIED)
		return gfsb_ctx_seterr(ctx, GFSB_EDENIED,
		    "mail server %s refused the login of user %s: %s", where,
		    user != NULL ? user : "?",
		    x->fail_cmd == CMD_AUTH ? x->fail_text : detail);
	/* Only CURLUSESSL_ALL fails this way, and it is set only when a
	 * password is to be sent. */
	if (rc == CURLE_USE_SSL_FAILED)
		return gfsb_ctx_seterr(ctx, GFSB_ENET,
		    "mail server %s does not offer STARTTLS, and TLS is "
		    "required to send the password (nothing was sent; use "
		    "smtps:// or a server with STARTTLS): %s",
		    where, detail);
	if (x->fail_cmd == CMD_MAIL && x->fail_code >= 400)
		return gfsb_ctx_seterr(ctx, GFSB_EDENIED,
		    "mail server %s refused the sender %s: %s", where, from,
		    x->fail_text);
	if (x->nto > 0 && nrefused == x->nto)
		return gfsb_ctx_seterr(ctx, GFSB_EDENIED,
		    "mail server %s refused every recipient: %s", where,
		    x->rcpt[x->nto - 1].text);
	if (x->fail_cmd == CMD_DATA && x->fail_code >= 400)
		return gfsb_ctx_seterr(ctx, GFSB_EDENIED,
		    "mail server %s refused the message: %s", where,
		    x->fail_text);
	if (x->fail_cmd == CMD_STARTTLS && x->fail_code >= 400)
		return gfsb_ctx_seterr(ctx, GFSB_ENET,
		    "mail server %s: STARTTLS failed: %s", where, x->fail_text);
	if (is_tls_error(rc))
		return gfsb_ctx_seterr(ctx, GFSB_ENET,
		    "mail server %s: TLS failed: %s", where, detail);
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
		return gfsb_ctx_seterr(ctx, GFSB_ENET,
		    "mail server %s unreachable: %s", where, detail);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return gfsb_ctx_seterr(ctx, GFSB_ENET,
		    "mail server %s: timed out: %s", where, detail);
	if (x->fail_code >= 400)
		return gfsb_ctx_seterr(ctx, GFSB_ENET,
		    "mail server %s: %s (server said: %s)", where, detail,
		    x->fail_text);
	return gfsb_ctx_seterr(ctx, GFSB_ENET, "mail server %s: %s%s%s%s",
	    where, detail, x->last_text[0] != '\0' ? " (last reply: " : "",
	    x->last_text, x->last_text[0] != '\0' ? ")" : "");
}

/*
 * Check the URL: smtp:// or smtps://, no user or password in it.  On
 * success *u is the parsed URL (the caller frees it with curl_url_cleanup)
 * and where holds "host:port" for messages.  GFSB_EINVAL, GFSB_ENOMEM.
 * The URL itself is never quoted: a mistyped one may hold a password.
 */
static gfsb_err
parse_url(
    struct gfsb_ctx *ctx, const char *url, CURLU **u, char *where, size_t wlen)
{
	CURLU *h = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *part = NULL;
	gfsb_err e = GFSB_OK;

	if ((h = curl_url()) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	        CURLUE_OK) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "invalid mail server URL (want smtp://host[:port] or "
		    "smtps://host[:port])");
		goto out;
	}
	if (strcasecmp(scheme, "smtp") != 0 &&
	    strcasecmp(scheme, "smtps") != 0) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "mail server URL scheme must be smtp:// or smtps://, "
		    "not %.20s://",
		    scheme);
		goto out;
	}
	if (curl_url_get(h, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK ||
	    curl_url_get(h, CURLUPART_OPTIONS, &part, 0) == CURLUE_OK) {
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "the mail server URL must not carry a user or password: "
		    "give the user with --smtp-user and the password in a "
		    "file");
		goto out;
	}
	snprintf(where, wlen, "%.200s:%s", host, port);
	*u = h;
	h = NULL;
out:
	if (part != NULL) {
		/* May be a password: wipe curl's copy before freeing it. */
		sodium_memzero(part, strlen(part));
		curl_free(part);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(h);
	return e;
}

/* Check every option and argument before anything is read or sent. */
static gfsb_err
check_args(struct gfsb_ctx *ctx, const struct gfsb_mail_opts *o,
    const char *subject, const char *text, const char *html)
{
	char shown[ADDR_MAX + 1];
	size_t i;

	if (o == NULL || o->url == NULL || o->from == NULL || subject == NULL ||
	    text == NULL || html == NULL)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "mail: server URL, sender, subject and both bodies are "
		    "required");
	if (o->nto == 0 || o->to == NULL)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "mail: no recipient");
	if (has_crlf(subject))
		return gfsb_ctx_seterr(
		    ctx, GFSB_EINVAL, "mail subject holds a line break");
	if (has_crlf(o->from) || !addr_ok(o->from)) {
		printable(o->from, strlen(o->from), shown, sizeof(shown));
		return gfsb_ctx_seterr(
		    ctx, GFSB_EINVAL, "invalid sender address \"%s\"", shown);
	}
	for (i = 0; i < o->nto; i++) {
		if (o->to[i] == NULL)
			return gfsb_ctx_seterr(
			    ctx, GFSB_EINVAL, "mail: recipient %zu is NULL", i);
		if (has_crlf(o->to[i]) || !addr_ok(o->to[i])) {
			printable(
			    o->to[i], strlen(o->to[i]), shown, sizeof(shown));
			return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
			    "invalid recipient address \"%s\"", shown);
		}
	}
	if ((o->user == NULL) != (o->password_file == NULL))
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL,
		    "mail: an SMTP user needs a password file and a password "
		    "file needs a user");
	if (o->user != NULL && (o->user[0] == '\0' || has_crlf(o->user)))
		return gfsb_ctx_seterr(
		    ctx, GFSB_EINVAL, "mail: invalid SMTP user name");
	if (o->timeout_s < 0)
		return gfsb_ctx_seterr(
		    ctx, GFSB_EINVAL, "mail: negative timeout");
	return GFSB_OK;
}

/* The transfer's options: the server, TLS, the login, the envelope, the
 * message from x; nothing taken from the environment. */
static void
setup_transfer(CURL *c, const struct gfsb_mail_opts *o, CURLU *u,
    char *errbuf, const char *password, const char *from,
    struct curl_slist *rcpts, struct xfer *x)
{
	curl_easy_setopt(c, CURLOPT_CURLU, u);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(
	    c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT,
	    o->timeout_s > 0 ? o->timeout_s : DEFAULT_TIMEOUT_S);
	/* Nothing from the environment: an empty proxy overrides
	 * all_proxy/smtp_proxy (which would route the mail, and the login,
	 * through whoever set them), and ~/.netrc is not read. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (o->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
	/* smtps:// is TLS from the start and ignores this.  Over smtp://,
	 * STARTTLS when offered, and required before a password is sent. */
	curl_easy_setopt(c, CURLOPT_USE_SSL,
	    password != NULL ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	if (password != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, o->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, password);
	}
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, OPT_RCPT_ALLOWFAILS, 1L);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, x);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	/* VERBOSE only routes protocol lines to on_debug; nothing prints. */
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, x);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
}

/* The envelope's recipients, <addr> each. */
static gfsb_err
recipients(const struct gfsb_mail_opts *o, struct curl_slist **out)
{
	char path[ADDR_MAX + 3];
	struct curl_slist *tmp;
	size_t i;

	for (i = 0; i < o->nto; i++) {
		snprintf(path, sizeof(path), "<%s>", o->to[i]);
		if ((tmp = curl_slist_append(*out, path)) == NULL)
			return GFSB_ENOMEM;
		*out = tmp;
	}
	return GFSB_OK;
}

/* What the server did with a message it took: recipients it refused and
 * a login it never asked for are warnings. */
static void
sent(struct gfsb_ctx *ctx, const struct gfsb_mail_opts *o,
    const struct xfer *x, const char *where, int login)
{
	size_t i, nok = 0;

	for (i = 0; i < o->nto; i++) {
		if (x->rcpt[i].code >= 400)
			gfsb_ctx_log(ctx, GFSB_LOG_WARN,
			    "mail server %s refused recipient %s: %s", where,
			    o->to[i], x->rcpt[i].text);
		else
			nok++;
	}
	if (login && !x->saw_auth)
		gfsb_ctx_log(ctx, GFSB_LOG_WARN,
		    "mail server %s offered no login (AUTH): the report was "
		    "sent without logging in as %s",
		    where, o->user);
	gfsb_ctx_log(ctx, GFSB_LOG_INFO, "mail sent via %s to %zu of %zu "
	    "recipients", where, nok, o->nto);
}

gfsb_err
gfsb_mail_send(struct gfsb_ctx *ctx, const struct gfsb_mail_opts *o,
    const char *subject, const char *text, const char *html)
{
	char errbuf[CURL_ERROR_SIZE], where[256], from[ADDR_MAX + 3];
	struct curl_slist *rcpts = NULL;
	struct gfsb_buf msg;
	struct xfer x;
	CURLU *u = NULL;
	CURL *c = NULL;
	char *password = NULL;
	CURLcode rc;
	gfsb_err e;

	gfsb_buf_init(&msg);
	memset(&x, 0, sizeof(x));
	errbuf[0] = '\0';
	if ((e = check_args(ctx, o, subject, text, html)) != GFSB_OK ||
	    (e = parse_url(ctx, o->url, &u, where, sizeof(where))) != GFSB_OK)
		goto out;
	if (o->password_file != NULL &&
	    (e = read_password(ctx, o->password_file, &password)) != GFSB_OK)
		goto out;
	if (!gfsb_curl_init()) {
		e = gfsb_ctx_seterr(
		    ctx, GFSB_ENOMEM, "cannot initialise libcurl");
		goto out;
	}
	if ((e = compose(o, subject, text, html, &msg)) != GFSB_OK ||
	    (e = recipients(o, &rcpts)) != GFSB_OK)
		goto out;
	if ((x.rcpt = calloc(o->nto, sizeof(*x.rcpt))) == NULL ||
	    (c = curl_easy_init()) == NULL) {
		e = GFSB_ENOMEM;
		goto out;
	}
	x.ctx = ctx;
	x.msg = msg.data;
	x.len = msg.len;
	x.nto = o->nto;
	snprintf(from, sizeof(from), "<%s>", o->from);
	setup_transfer(c, o, u, errbuf, password, from, rcpts, &x);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		e = transfer_error(
		    ctx, &x, rc, errbuf, where, o->from, o->user);
		goto out;
	}
	sent(ctx, o, &x, where, password != NULL);
	e = GFSB_OK;
out:
	if (c != NULL) {
		/* curl keeps its own copy of the password; drop it now.  It
		 * frees that copy without wiping it (nothing we can do). */
		curl_easy_setopt(c, CURLOPT_PASSWORD, NULL);
		curl_easy_cleanup(c);
	}
	curl_url_cleanup(u);
	curl_slist_free_all(rcpts);
	free(x.rcpt);
	if (password != NULL)
		sodium_free(password); /* zeroes it first */
	gfsb_buf_fini(&msg);
	return e;
}
