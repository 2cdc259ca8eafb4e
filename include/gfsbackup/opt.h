/*
 * opt: command-line options, declared rather than written out (git's
 * parse-options).  A command lists each of its options once (struct
 * gfsb_opt: long name, short letter, kind, where the value goes, its
 * limits); gfsb_opt_parse derives getopt_long's tables from that list,
 * converts and checks every value as it comes, in the order given (the
 * last of a repeated option wins; a list keeps them all), and says what
 * is wrong in the words users know: the detail goes to the context's
 * error slot, and the program prints it.  Nothing here prints.
 */
#ifndef GFSBACKUP_OPT_H
#define GFSBACKUP_OPT_H

#include <stddef.h>

#include <gfsbackup/util.h>

enum gfsb_opt_kind {
	GFSB_OPT_KIND_SET,	/* no argument: *(int *)value = min */
	GFSB_OPT_KIND_COUNT,	/* no argument: ++*(int *)value */
	GFSB_OPT_KIND_ACTION,	/* no argument: cb(ctx, o, NULL, cookie) */
	GFSB_OPT_KIND_STRING,	/* *(const char **)value = arg (the last);
				   min 1: never "" */
	GFSB_OPT_KIND_LIST,	/* repeatable: into a struct gfsb_opt_list;
				   min 1: never "" */
	GFSB_OPT_KIND_NUMBER,	/* whole number in [min, max] */
	GFSB_OPT_KIND_SIZE,	/* gfsb_size_parse, from min to max */
	GFSB_OPT_KIND_DURATION,	/* gfsb_gfs_margin_parse, at least min:
				   an int64_t */
	GFSB_OPT_KIND_TIME,	/* gfsb_time_parse_local: struct gfsb_time */
	GFSB_OPT_KIND_PERCENT,	/* "5%", "5" or "0.5%": a fraction, double */
	GFSB_OPT_KIND_ENUM,	/* one of names: its value into an int */
	GFSB_OPT_KIND_SET_OF,	/* names separated by commas: their values
				   or'ed into an unsigned ("": 0) */
	GFSB_OPT_KIND_CALLBACK,	/* cb(ctx, o, arg, cookie) */
	GFSB_OPT_KIND_TAG,	/* repeatable: a word, never "" and without
				   a comma, into a struct gfsb_opt_list;
				   min 1: "" is taken, and adds nothing */
	GFSB_OPT_KIND_SPLIT,	/* repeatable: items separated by commas
				   (leading spaces and empty items dropped),
				   copied into a struct gfsb_opt_strv */
	GFSB_OPT_KIND_PAST,	/* a moment of the past after 1970, in local
				   time (gfsb_time_parse_local): its
				   seconds since the epoch, an int64_t */
	GFSB_OPT_KIND_KIB,	/* a whole number of KiB, at least min: in
				   bytes, a uint64_t */
	GFSB_OPT_KIND_ABSPATH	/* as STRING, but an absolute path */
};

struct gfsb_ctx;
struct gfsb_opt;

/* An option's own handling: GFSB_OK to go on; an error (its detail set
 * with gfsb_ctx_seterr) stops the parse. */
typedef gfsb_err gfsb_opt_fn(struct gfsb_ctx *ctx, const struct gfsb_opt *o,
    const char *arg, void *cookie);

struct gfsb_opt_enum {
	const char *name;
	int value;
};

struct gfsb_opt {
	const char *name;	/* the long name, without "--"; NULL: end */
	int letter;		/* the short option; 0: none */
	enum gfsb_opt_kind kind;
	void *value;		/* where the value goes */
	size_t size;		/* NUMBER, SIZE: sizeof(*value), 4 or 8 */
	long long min, max;	/* limits (SET: the value to set) */
	const char *label;	/* NUMBER, SIZE, TIME: in errors instead of
				   "--name" */
	const char *hint;	/* after the argument in errors */
	const struct gfsb_opt_enum *names; /* ENUM, SET_OF: ends with a NULL
					      name */
	gfsb_opt_fn *cb;	/* ACTION, CALLBACK */
	const char **given;	/* if set: the name goes there when given */
};

/* A repeatable option's arguments (the strings are not copied). */
struct gfsb_opt_list {
	const char **v;
	size_t n;
};

/* A repeatable option's arguments split and copied (GFSB_OPT_SPLIT): the
 * caller frees them with gfsb_strv_free(v, n). */
struct gfsb_opt_strv {
	char **v;
	size_t n;
};

/* p, checked at compile time to point to a T. */
#define GFSB_OPT_PTR(T, p) (1 ? (p) : (T *)NULL)

/* The fields every entry has; an entry with more (.given, say) is
 * written { GFSB_OPT_(KIND, ...), .field = ... }. */
#define GFSB_OPT_(k, l, s, p)                                             \
	.name = (l), .letter = (s), .kind = GFSB_OPT_KIND_##k, .value = (p)

#define GFSB_OPT_FLAG(l, s, p) GFSB_OPT_SET(l, s, p, 1)
#define GFSB_OPT_SET(l, s, p, v)                                          \
	{ GFSB_OPT_(SET, l, s, GFSB_OPT_PTR(int, p)), .min = (v) }
#define GFSB_OPT_COUNT(l, s, p)                                           \
	{ GFSB_OPT_(COUNT, l, s, GFSB_OPT_PTR(int, p)) }
#define GFSB_OPT_STRING(l, s, p)                                          \
	{ GFSB_OPT_(STRING, l, s, GFSB_OPT_PTR(const char *, p)) }
#define GFSB_OPT_LIST(l, s, p)                                            \
	{ GFSB_OPT_(LIST, l, s, GFSB_OPT_PTR(struct gfsb_opt_list, p)) }
#define GFSB_OPT_NUMBER(l, s, p, lo, hi, lab)                             \
	{ GFSB_OPT_(NUMBER, l, s, p), .size = sizeof(*(p)), .min = (lo),  \
	  .max = (hi), .label = (lab) }
#define GFSB_OPT_SIZE(l, s, p, hi, lab)                                   \
	{ GFSB_OPT_(SIZE, l, s, p), .size = sizeof(*(p)), .max = (hi),    \
	  .label = (lab) }
#define GFSB_OPT_DURATION(l, s, p, lo, h)                                 \
	{ GFSB_OPT_(DURATION, l, s, GFSB_OPT_PTR(int64_t, p)),            \
	  .min = (lo), .hint = (h) }
#define GFSB_OPT_TIME(l, s, p)                                            \
	{ GFSB_OPT_(TIME, l, s, GFSB_OPT_PTR(struct gfsb_time, p)) }
#define GFSB_OPT_PERCENT(l, s, p, h)                                      \
	{ GFSB_OPT_(PERCENT, l, s, GFSB_OPT_PTR(double, p)), .hint = (h) }
#define GFSB_OPT_ENUM(l, s, p, list)                                      \
	{ GFSB_OPT_(ENUM, l, s, GFSB_OPT_PTR(int, p)), .names = (list) }
#define GFSB_OPT_SET_OF(l, s, p, list)                                    \
	{ GFSB_OPT_(SET_OF, l, s, GFSB_OPT_PTR(unsigned, p)),             \
	  .names = (list) }
#define GFSB_OPT_ACTION(l, s, p, fn)                                      \
	{ GFSB_OPT_(ACTION, l, s, p), .cb = (fn) }
#define GFSB_OPT_CALLBACK(l, s, p, fn)                                    \
	{ GFSB_OPT_(CALLBACK, l, s, p), .cb = (fn) }
/* A string or a list's item that is never empty: "empty LABEL". */
#define GFSB_OPT_NONEMPTY(l, s, p, lab)                                   \
	{ GFSB_OPT_(STRING, l, s, GFSB_OPT_PTR(const char *, p)),         \
	  .min = 1, .label = (lab) }
#define GFSB_OPT_LIST_NONEMPTY(l, s, p, lab)                              \
	{ GFSB_OPT_(LIST, l, s, GFSB_OPT_PTR(struct gfsb_opt_list, p)),   \
	  .min = 1, .label = (lab) }
#define GFSB_OPT_TAG(l, s, p)                                             \
	{ GFSB_OPT_(TAG, l, s, GFSB_OPT_PTR(struct gfsb_opt_list, p)),    \
	  .label = "tag" }
#define GFSB_OPT_SPLIT(l, s, p)                                           \
	{ GFSB_OPT_(SPLIT, l, s, GFSB_OPT_PTR(struct gfsb_opt_strv, p)) }
#define GFSB_OPT_PAST(l, s, p)                                            \
	{ GFSB_OPT_(PAST, l, s, GFSB_OPT_PTR(int64_t, p)) }
#define GFSB_OPT_KIB(l, s, p, h)                                          \
	{ GFSB_OPT_(KIB, l, s, GFSB_OPT_PTR(uint64_t, p)), .min = 1,      \
	  .hint = (h) }
#define GFSB_OPT_ABSPATH(l, s, p)                                         \
	{ GFSB_OPT_(ABSPATH, l, s, GFSB_OPT_PTR(const char *, p)) }
#define GFSB_OPT_END { .name = NULL }

/* gfsb_opt_parse's max_args: any number of positional arguments. */
#define GFSB_OPT_ANY_ARGS (-1)

/* The most options one parse takes (both tables together). */
#define GFSB_OPT_MAX 64

/*
 * gfsb_opt_parse(ctx, argc, argv, common, opts, max_args, cookie):
 * Parse argv (argv[0] is the command's name) with the options of common
 * and then opts (each ended by GFSB_OPT_END; either may be NULL),
 * storing each value where its entry says, and calling callbacks with
 * cookie.  The positional arguments are then argv[optind..argc-1]
 * (getopt's optind, which this resets first, so argv may be parsed
 * again).  Returns GFSB_OK; GFSB_EINVAL for a usage error, with one line
 * saying what is wrong in ctx's error slot (an unknown option with the
 * known one it is closest to, a value out of its range with the range, a
 * missing value, more than max_args positional arguments unless
 * GFSB_OPT_ANY_ARGS); GFSB_ENOMEM; or a callback's error.  Values stored
 * before an error stay stored (a SPLIT's copies too: the caller frees
 * them either way).  Not thread-safe (getopt's state).
 */
gfsb_err gfsb_opt_parse(struct gfsb_ctx *ctx, int argc, char **argv,
    const struct gfsb_opt *common, const struct gfsb_opt *opts,
    int max_args, void *cookie) GFSB_WUR;

/*
 * gfsb_opt_list_add(l, s):
 * Append s (not copied) to l.  GFSB_ENOMEM.  For a callback of a
 * repeatable option.
 */
gfsb_err gfsb_opt_list_add(struct gfsb_opt_list *l, const char *s) GFSB_WUR;

/*
 * gfsb_opt_closest(word, cands, n):
 * The candidate at most two edits from word (the closest, the first of
 * equals); NULL when none is: for "did you mean" after a mistyped
 * command or option.  Thread-safe.
 */
const char *gfsb_opt_closest(const char *word, const char *const *cands,
    size_t n);

#endif
