/*
 * util: errors, the library context, byte buffers, hex, sizes and time.
 *
 * Everything else in the library builds on these.  The library never prints:
 * messages go to the context's log callback and the error slot, and the
 * program decides what a person sees.
 */
#ifndef GFSBACKUP_UTIL_H
#define GFSBACKUP_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Error codes.  New values go at the end only. */
typedef enum gfsb_err {
	GFSB_OK = 0,
	GFSB_ENOMEM,	  /* out of memory */
	GFSB_EIO,	  /* an I/O error (errno recorded in the message) */
	GFSB_ENOTFOUND,	  /* the named object, snapshot or file does not exist */
	GFSB_ECORRUPT,	  /* data failed a check (hash, MAC, format) */
	GFSB_EAUTH,	  /* wrong passphrase: no key file opens */
	GFSB_ELOCKED,	  /* the repository is locked by another process */
	GFSB_ENET,	  /* network failure */
	GFSB_EINVAL,	  /* invalid argument or input */
	GFSB_ENOREPO,	  /* there is no repository at that location */
	GFSB_EEXIST,	  /* something is already there */
	GFSB_ECANCELED,	  /* the operation was cancelled (signal) */
	GFSB_EUNSUPPORTED, /* a format version or feature we do not know */
	GFSB_EDENIED	  /* the storage refused our credentials or access */
} gfsb_err;

#if defined(__GNUC__)
#define GFSB_WUR __attribute__((warn_unused_result))
#define GFSB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GFSB_WUR
#define GFSB_PRINTF(f, a)
#endif

/*
 * gfsb_strerror(err):
 * Return a short static description of err.  Thread-safe.
 */
const char *gfsb_strerror(gfsb_err err);

/*
 * gfsb_err_is_damage(err):
 * Non-zero if err says something about the stored data itself: an object
 * was read and its bytes are wrong (GFSB_ECORRUPT), are in a format this
 * version does not read (GFSB_EUNSUPPORTED), or the object the index or
 * a listing named is not there (GFSB_ENOTFOUND).  That is damage, to be
 * named and worked around.  Every other error (GFSB_ENET, GFSB_EDENIED,
 * GFSB_EIO, GFSB_ENOMEM, GFSB_ECANCELED, ...) is a failure to look: the
 * object may well be intact, nothing may be concluded about it, and the
 * operation stops with that error.  Thread-safe.
 */
int gfsb_err_is_damage(gfsb_err err);

/* Log levels, most severe first. */
enum gfsb_log_level {
	GFSB_LOG_ERROR = 0,
	GFSB_LOG_WARN = 1,
	GFSB_LOG_INFO = 2,
	GFSB_LOG_DEBUG = 3
};

/* A log callback receives one complete line without a trailing newline. */
typedef void gfsb_log_fn(void *cookie, enum gfsb_log_level level,
    const char *msg);

struct gfsb_ctx;

/*
 * gfsb_ctx_new(out):
 * Create a library context: the log callback, the error slot and the
 * cancellation flag.  Initialises libsodium.  Returns GFSB_ENOMEM, or
 * GFSB_EIO if libsodium cannot start.  The caller frees *out with
 * gfsb_ctx_free.
 */
gfsb_err gfsb_ctx_new(struct gfsb_ctx **out) GFSB_WUR;

/*
 * gfsb_ctx_free(ctx):
 * Free ctx.  NULL is allowed.
 */
void gfsb_ctx_free(struct gfsb_ctx *ctx);

/*
 * gfsb_ctx_set_log(ctx, fn, cookie):
 * Route messages to fn.  With fn NULL, messages are dropped.  Call before
 * starting any operation; the callback may be called from worker threads,
 * one call at a time.
 */
void gfsb_ctx_set_log(struct gfsb_ctx *ctx, gfsb_log_fn *fn, void *cookie);

/*
 * gfsb_ctx_log(ctx, level, fmt, ...):
 * Send one formatted line to the log callback.  Thread-safe.
 */
void gfsb_ctx_log(struct gfsb_ctx *ctx, enum gfsb_log_level level,
    const char *fmt, ...) GFSB_PRINTF(3, 4);

/*
 * gfsb_ctx_log_prefix(level, verbose):
 * How a log line of that level is shown at verbosity verbose (how many
 * -v were given): its prefix, "error: ", "warning: " or "" (static);
 * NULL when it is not shown (information below 1, debugging below 2).
 * Thread-safe.
 */
const char *gfsb_ctx_log_prefix(enum gfsb_log_level level, int verbose);

/*
 * gfsb_ctx_seterr(ctx, err, fmt, ...):
 * Record the detail of an error (which object, which file, errno) unless a
 * detail is already recorded: the first error is the root cause and is
 * kept.  One exception: the detail of damage (gfsb_err_is_damage) gives
 * way to a later failure to look, as checks that find damage record it
 * and go on (verify's and restore's workers), while a failure to look
 * stops the operation and is what its user must read.  Returns err, so a
 * caller can write `return gfsb_ctx_seterr(...)`.  Thread-safe.
 */
gfsb_err gfsb_ctx_seterr(struct gfsb_ctx *ctx, gfsb_err err, const char *fmt,
    ...) GFSB_PRINTF(3, 4);

/*
 * gfsb_ctx_errmsg(ctx):
 * The recorded error detail, or "" when none.  Borrowed until the next
 * gfsb_ctx_seterr or gfsb_ctx_clearerr.
 */
const char *gfsb_ctx_errmsg(struct gfsb_ctx *ctx);

/*
 * gfsb_ctx_clearerr(ctx):
 * Forget the recorded error detail.
 */
void gfsb_ctx_clearerr(struct gfsb_ctx *ctx);

/*
 * gfsb_ctx_cancel(ctx):
 * Ask running operations to stop at the next safe point; they return
 * GFSB_ECANCELED.  Async-signal-safe: may be called from a signal handler.
 */
void gfsb_ctx_cancel(struct gfsb_ctx *ctx);

/*
 * gfsb_ctx_canceled(ctx):
 * Non-zero once gfsb_ctx_cancel was called.  Thread-safe.
 */
int gfsb_ctx_canceled(const struct gfsb_ctx *ctx);

/*
 * A growable byte buffer.  Transparent so that callers can read data/len
 * directly; change it only through the functions below.
 */
struct gfsb_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/*
 * gfsb_buf_init(b):
 * Make b empty, owning nothing.
 */
void gfsb_buf_init(struct gfsb_buf *b);

/*
 * gfsb_buf_fini(b):
 * Free what b owns and make it empty.
 */
void gfsb_buf_fini(struct gfsb_buf *b);

/*
 * gfsb_buf_wipe(b):
 * Overwrite the buffer's whole capacity with zeros (gfsb_memwipe), then
 * gfsb_buf_fini.  For buffers that held secrets or plaintext.
 */
void gfsb_buf_wipe(struct gfsb_buf *b);

/*
 * gfsb_memwipe(p, n):
 * Zero p[0..n) where it is in memory: a large range's pages that are not
 * (never written, or swapped out) are left untouched rather than faulted
 * in.  For heap memory (malloc's), not for file mappings.
 */
void gfsb_memwipe(void *p, size_t n);

/*
 * gfsb_buf_reserve(b, extra):
 * Make room for extra more bytes after len.  GFSB_ENOMEM on failure (b is
 * unchanged).
 */
gfsb_err gfsb_buf_reserve(struct gfsb_buf *b, size_t extra) GFSB_WUR;

/*
 * gfsb_buf_append(b, p, n):
 * Append n bytes.  GFSB_ENOMEM on failure (b is unchanged).
 */
gfsb_err gfsb_buf_append(struct gfsb_buf *b, const void *p, size_t n)
    GFSB_WUR;

/*
 * gfsb_buf_put_u8/u16/u32/u64(b, v):
 * Append v in little-endian byte order.  GFSB_ENOMEM on failure.
 */
gfsb_err gfsb_buf_put_u8(struct gfsb_buf *b, uint8_t v) GFSB_WUR;
gfsb_err gfsb_buf_put_u16(struct gfsb_buf *b, uint16_t v) GFSB_WUR;
gfsb_err gfsb_buf_put_u32(struct gfsb_buf *b, uint32_t v) GFSB_WUR;
gfsb_err gfsb_buf_put_u64(struct gfsb_buf *b, uint64_t v) GFSB_WUR;

/*
 * gfsb_buf_take(b, len):
 * Return b's data (the caller frees it with free()) and its length in *len;
 * b becomes empty.  Returns NULL for an empty buffer.
 */
uint8_t *gfsb_buf_take(struct gfsb_buf *b, size_t *len);

/*
 * gfsb_strv_addf(v, n, fmt, ...), gfsb_strv_vaddf(v, n, fmt, ap):
 * Append a formatted, malloc'd line to the array *v of *n lines (the
 * array grows by one; the caller frees each line and the array).
 * GFSB_ENOMEM (nothing appended).
 */
gfsb_err gfsb_strv_addf(char ***v, size_t *n, const char *fmt, ...)
    GFSB_PRINTF(3, 4) GFSB_WUR;
gfsb_err gfsb_strv_vaddf(char ***v, size_t *n, const char *fmt, va_list ap)
    GFSB_PRINTF(3, 0) GFSB_WUR;

/*
 * gfsb_strv_free(v, n):
 * Free the n malloc'd lines of v, then v (NULL allowed).
 */
void gfsb_strv_free(char **v, size_t n);

/*
 * A bounds-checked little-endian reader over borrowed bytes.  Reads past
 * the end set `bad` and return zero, so a decoder can read a whole record
 * and check `bad` once.
 */
struct gfsb_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	int bad;
};

void gfsb_rd_init(struct gfsb_rd *r, const void *p, size_t len);
uint8_t gfsb_rd_u8(struct gfsb_rd *r);
uint16_t gfsb_rd_u16(struct gfsb_rd *r);
uint32_t gfsb_rd_u32(struct gfsb_rd *r);
uint64_t gfsb_rd_u64(struct gfsb_rd *r);

/*
 * gfsb_rd_bytes(r, n):
 * Return a pointer to the next n bytes and skip them, or NULL (and set bad)
 * if fewer remain.
 */
const uint8_t *gfsb_rd_bytes(struct gfsb_rd *r, size_t n);

/*
 * gfsb_rd_left(r):
 * How many bytes remain.
 */
size_t gfsb_rd_left(const struct gfsb_rd *r);

/* Little-endian load/store helpers for fixed layouts. */
void gfsb_le32_put(uint8_t *p, uint32_t v);
uint32_t gfsb_le32_get(const uint8_t *p);

/*
 * gfsb_hex_encode(in, n, out):
 * Write 2n lowercase hex digits and a NUL to out (2n + 1 bytes).
 */
void gfsb_hex_encode(const uint8_t *in, size_t n, char *out);

/*
 * gfsb_hex_decode(hex, out, n):
 * Decode exactly 2n hex digits (either case) into n bytes.  GFSB_EINVAL if
 * hex is not exactly that.
 */
gfsb_err gfsb_hex_decode(const char *hex, uint8_t *out, size_t n) GFSB_WUR;

/*
 * gfsb_size_parse(s, out):
 * Parse a byte count: digits with an optional suffix K, M, G, T (powers of
 * 1024, optionally followed by "iB" or "B").  GFSB_EINVAL when malformed or
 * when it overflows.
 */
gfsb_err gfsb_size_parse(const char *s, uint64_t *out) GFSB_WUR;

/*
 * gfsb_size_format(n, buf, len):
 * Format n bytes for people ("1.5 GiB", "312 B") into buf.  Returns buf.
 */
char *gfsb_size_format(uint64_t n, char *buf, size_t len);

/*
 * gfsb_duration_format(seconds, buf, len):
 * Format a duration for people, rounded up, in at most two units ("2 h 14
 * min", "4 h", "38 min", "45 s"; "unknown" when negative or NaN) into buf.
 * Returns buf.
 */
char *gfsb_duration_format(double seconds, char *buf, size_t len);

/* A point in time: seconds since the epoch and nanoseconds. */
struct gfsb_time {
	int64_t sec;
	int32_t nsec;
};

/*
 * gfsb_time_now(t):
 * The current wall-clock time.
 */
void gfsb_time_now(struct gfsb_time *t);

/*
 * gfsb_time_parse_local(s, t):
 * Parse "YYYY-MM-DD HH:MM:SS" (or "YYYY-MM-DDTHH:MM:SS") in the local time
 * zone (TZ honoured).  GFSB_EINVAL when malformed or not a valid time.
 */
gfsb_err gfsb_time_parse_local(const char *s, struct gfsb_time *t) GFSB_WUR;

/*
 * gfsb_time_format_rfc3339(t, buf, len):
 * Format t as RFC 3339 in local time with nanoseconds and the UTC offset,
 * as restic does ("2026-11-22T01:02:03.123456789+01:00").  len >= 40.
 */
void gfsb_time_format_rfc3339(const struct gfsb_time *t, char *buf,
    size_t len);

/*
 * gfsb_time_parse_rfc3339(s, t):
 * Parse an RFC 3339 time with optional fraction and a "Z" or "+hh:mm"
 * offset.  GFSB_EINVAL when malformed.
 */
gfsb_err gfsb_time_parse_rfc3339(const char *s, struct gfsb_time *t)
    GFSB_WUR;

/*
 * gfsb_time_format_local(t, buf, len):
 * Format t as "YYYY-MM-DD HH:MM:SS" in local time.  len >= 20.
 */
void gfsb_time_format_local(const struct gfsb_time *t, char *buf, size_t len);

/*
 * gfsb_time_cmp(a, b):
 * Negative, zero or positive as a is before, equal to or after b.
 */
int gfsb_time_cmp(const struct gfsb_time *a, const struct gfsb_time *b);

/*
 * gfsb_monotonic_seconds():
 * Seconds on a monotonic clock, for durations.
 */
double gfsb_monotonic_seconds(void);

/*
 * A pool of reusable large buffers.  The pipelines allocate and free
 * megabyte buffers in different threads; without reuse, malloc's per-thread
 * arenas keep the freed memory resident and the peak grows far beyond what
 * is live.  A pool keeps at most `max` idle buffers, of at most
 * `max_bytes` in all, and frees the rest.  Reuse matters more than it
 * seems: a fresh page costs a fault (12 us in the virtual machines this
 * runs on, where reading into fresh buffers cost a backup 1.5 s).
 * Buffers under the pool's `small` bytes are malloc's own business:
 * never kept, never served from a large idle one (a small request would
 * otherwise take it, and the next large one would get a fresh buffer).
 */
struct gfsb_pool;

/*
 * gfsb_pool_new(max, max_bytes, small, out), gfsb_pool_free(p):
 * Create a pool keeping up to max idle buffers of max_bytes in all
 * (SIZE_MAX: no limit), none under small bytes (0: any); free it and
 * every idle buffer (NULL allowed).  GFSB_ENOMEM.
 */
gfsb_err gfsb_pool_new(size_t max, size_t max_bytes, size_t small,
    struct gfsb_pool **out) GFSB_WUR;
void gfsb_pool_free(struct gfsb_pool *p);

/*
 * gfsb_pool_get(p, need, cap):
 * A buffer of at least need bytes (an idle one, or a new one: from a
 * megabyte up, whole transparent huge pages); its capacity goes to *cap.
 * Its contents are undefined.  NULL when out of memory.  The caller
 * returns it with gfsb_pool_put or frees it with free().  Thread-safe.
 */
void *gfsb_pool_get(struct gfsb_pool *p, size_t need, size_t *cap);

/*
 * gfsb_pool_put(p, buf, cap):
 * Give a buffer back (freed if the pool is full).  NULL buf is ignored.
 * Thread-safe.
 */
void gfsb_pool_put(struct gfsb_pool *p, void *buf, size_t cap);

/*
 * gfsb_sys_hostname(buf, len), gfsb_sys_username(buf, len):
 * This host's name (short form, as `hostname` prints it) and the name of
 * the effective user (or its numeric id if it has no name).  Truncated to
 * len - 1 bytes.
 */
void gfsb_sys_hostname(char *buf, size_t len);
void gfsb_sys_username(char *buf, size_t len);

/*
 * gfsb_sys_write_full(fd, p, n):
 * Write all n bytes (retrying short writes and EINTR).  0, or -1 with
 * errno set.
 *
 * gfsb_sys_pread_full(fd, p, n, off):
 * Read up to n bytes at off (retrying short reads and EINTR): the count
 * read, short only at the end of the file; -1 with errno set on an error.
 */
int gfsb_sys_write_full(int fd, const void *p, size_t n);

/*
 * gfsb_sys_mkdirs(path):
 * mkdir -p: create path and its missing parents, mode 0700 for what it
 * creates.  Returns 0 or an errno value.
 */
int gfsb_sys_mkdirs(const char *path);
ssize_t gfsb_sys_pread_full(int fd, void *p, size_t n, uint64_t off);

/*
 * gfsb_sys_harden():
 * Ready the process that holds a repository's keys: no core file and
 * not dumpable (keys in memory never reach a core file or another
 * process's ptrace), SSLKEYLOGFILE unset (libcurl's OpenSSL would write
 * every TLS session key there, the S3 and SMTP logins readable by
 * whoever reads it), the open-file limit raised to its maximum (deep
 * trees hold one directory descriptor per level), and glibc's mmap
 * threshold fixed at 256 KiB (the pipelines pool their megabyte
 * buffers; those they do not must go back to the system when freed,
 * not into per-thread arenas that keep them resident: a 1 GiB backup
 * peaked at 222 MiB instead of 140).  Call it first, before threads.
 * Not thread-safe.
 */
void gfsb_sys_harden(void);

/*
 * gfsb_sys_private(path, mode, why, len):
 * The rule for a file that holds a secret (a passphrase, a password, the
 * configuration naming them), as ssh's for a private key: its group and
 * others get no permission at all.  0 if mode (st_mode) keeps to it; else
 * -1 with "PATH is accessible to other users (mode 0644): chmod 600 it"
 * in why (len bytes).  Which files the rule applies to (regular files
 * only, their owner) is the caller's to decide.  Thread-safe.
 */
int gfsb_sys_private(const char *path, mode_t mode, char *why, size_t len);

/*
 * gfsb_curl_init():
 * libcurl's global initialisation, done once for the process whoever asks
 * first (the S3 backend, the mail sender).  1 when libcurl is usable.
 * Thread-safe.
 */
int gfsb_curl_init(void);

/*
 * gfsb_utf8_valid(s):
 * Is s well-formed UTF-8 (RFC 3629: no overlong form, no surrogate,
 * nothing above U+10FFFF)?  What a snapshot records as text (its paths,
 * host, tags, excludes) must be: it is stored as JSON.
 */
int gfsb_utf8_valid(const char *s);

/*
 * gfsb_json_wipe_init(), gfsb_json_wipes():
 * Make jansson zero every block it frees (once for the process;
 * gfsb_ctx_new does it): the JSON it parses and dumps holds secrets (the
 * config's seed and reader keys) and what was backed up (a snapshot's
 * paths).  gfsb_json_wipes says whether its allocator is that one.
 */
void gfsb_json_wipe_init(void);
int gfsb_json_wipes(void);

#endif /* !GFSBACKUP_UTIL_H */
