/*
 * Declared options (see opt.h): getopt_long's tables derived from the
 * entries, each value converted and checked as it comes.  getopt itself
 * is kept quiet (opterr = 0): its complaints would go to stderr in its
 * own words, and the library never prints; every usage error is one line
 * in the context's error slot instead, in the words the commands always
 * used ("invalid --threads 0 (1 to 64)"), with a "did you mean" for a
 * mistyped long option.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/opt.h>
#include <gfsbackup/util.h>

/* getopt_long's value for an option without a letter. */
#define LONG_ONLY 256

/* The options of one parse, and getopt_long's tables for them. */
struct tables {
	struct gfsb_opt all[GFSB_OPT_MAX];
	struct option lo[GFSB_OPT_MAX + 1];
	char letters[2 * GFSB_OPT_MAX + 2];
	size_t n;
};

gfsb_err
gfsb_opt_list_add(struct gfsb_opt_list *l, const char *s)
{
	const char **grown;

	if ((grown = realloc(l->v, (l->n + 1) * sizeof(*l->v))) == NULL)
		return GFSB_ENOMEM;
	grown[l->n++] = s;
	l->v = grown;
	return GFSB_OK;
}

/* "5%", "5" (percent) or "0.5%" as a fraction; -1 if invalid. */
static double
percent(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || (*end != '\0' && strcmp(end, "%") != 0) || v < 0 ||
	    v > 100)
		return -1;
	return v / 100.0;
}

/* Store v, known to fit, into an integer of size bytes at p. */
static void
store(void *p, size_t size, long long v)
{
	uint32_t v32 = (uint32_t)v;
	uint64_t v64 = (uint64_t)v;

	assert(size == sizeof(v32) || size == sizeof(v64));
	memcpy(p, size == sizeof(v32) ? (void *)&v32 : (void *)&v64, size);
}

/* A whole number from o->min to o->max. */
static gfsb_err
number(struct gfsb_ctx *ctx, const struct gfsb_opt *o, const char *what,
    const char *arg)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < o->min ||
	    v > o->max)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid %s %s "
		    "(%lld to %lld)", what, arg, o->min, o->max);
	store(o->value, o->size, v);
	return GFSB_OK;
}

/* The value of the name of o->names that is the len bytes at s; -1 if
 * none is. */
static long long
named(const struct gfsb_opt *o, const char *s, size_t len)
{
	const struct gfsb_opt_enum *e;

	for (e = o->names; e->name != NULL; e++)
		if (strlen(e->name) == len && memcmp(e->name, s, len) == 0)
			return e->value;
	return -1;
}

/* One of an ENUM's names, or (SET_OF) a list of them, else say which
 * they are. */
static gfsb_err
one_of(struct gfsb_ctx *ctx, const struct gfsb_opt *o, const char *arg)
{
	const struct gfsb_opt_enum *e;
	const char *p, *end;
	char list[256] = "";
	unsigned set = 0;
	long long v = 0;
	size_t n = 0;

	if (o->kind == GFSB_OPT_KIND_ENUM)
		v = named(o, arg, strlen(arg));
	for (p = arg; o->kind == GFSB_OPT_KIND_SET_OF && v >= 0 && *p;
	    p = *end ? end + 1 : end) {
		if ((end = p + strcspn(p, ",")) == p)
			continue;
		if ((v = named(o, p, (size_t)(end - p))) >= 0)
			set |= (unsigned)v;
	}
	if (v >= 0 && o->kind == GFSB_OPT_KIND_ENUM)
		*(int *)o->value = (int)v;
	else if (v >= 0)
		*(unsigned *)o->value = set;
	if (v >= 0)
		return GFSB_OK;
	for (e = o->names; e->name != NULL && n < sizeof(list); e++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    e == o->names ? "" : e[1].name != NULL ? ", " : " or ",
		    e->name);
	return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid --%s %s: give %s%s",
	    o->name, arg, list, o->kind == GFSB_OPT_KIND_SET_OF ?
	    ", separated by commas" : "");
}

/* SPLIT: each item of arg (separated by commas), copied into the
 * vector; leading spaces and empty items are dropped ("a, b,"). */
static gfsb_err
split(const struct gfsb_opt *o, const char *arg)
{
	struct gfsb_opt_strv *sv = o->value;
	const char *p, *end;

	for (p = arg; *p != '\0'; p = *end ? end + 1 : end) {
		p += strspn(p, " ");
		end = p + strcspn(p, ",");
		if (end != p && gfsb_strv_addf(&sv->v, &sv->n, "%.*s",
		    (int)(end - p), p) != GFSB_OK)
			return GFSB_ENOMEM;
	}
	return GFSB_OK;
}

/* The kinds whose value is text (what names the option in errors). */
static gfsb_err
text(struct gfsb_ctx *ctx, const struct gfsb_opt *o, const char *what,
    const char *arg)
{
	/* A tag with a comma would read back as two. */
	if (o->kind == GFSB_OPT_KIND_TAG && *arg == '\0' && o->min > 0)
		return GFSB_OK;
	if (o->kind == GFSB_OPT_KIND_TAG && (*arg == '\0' ||
	    strchr(arg, ',') != NULL))
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid %s \"%s\"",
		    what, arg);
	if (*arg == '\0' && o->min > 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "empty %s", what);
	if (o->kind == GFSB_OPT_KIND_ABSPATH && *arg != '/')
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s %s: give an "
		    "absolute path", what, arg);
	if (o->kind == GFSB_OPT_KIND_SPLIT)
		return split(o, arg);
	if (o->kind == GFSB_OPT_KIND_LIST || o->kind == GFSB_OPT_KIND_TAG)
		return gfsb_opt_list_add(o->value, arg);
	*(const char **)o->value = arg;
	return GFSB_OK;
}

/* PAST: a moment of the past, in local time like every --time. */
static gfsb_err
past(struct gfsb_ctx *ctx, const struct gfsb_opt *o, const char *what,
    const char *arg)
{
	struct gfsb_time t, now;

	if (gfsb_time_parse_local(arg, &t) != GFSB_OK)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid %s %s: give "
		    "'YYYY-MM-DD HH:MM:SS'", what, arg);
	gfsb_time_now(&now);
	if (t.sec > now.sec)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s %s is in the "
		    "future: give a moment of the past", what, arg);
	if (t.sec <= 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "%s %s is before 1970",
		    what, arg);
	*(int64_t *)o->value = t.sec;
	return GFSB_OK;
}

/* KIB: a whole number of KiB, at least o->min, kept in bytes; -1 if it
 * is not one (or its bytes would not fit). */
static int
kib(const struct gfsb_opt *o, const char *arg)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < o->min ||
	    v > INT64_MAX / 1024)
		return -1;
	*(uint64_t *)o->value = (uint64_t)v * 1024;
	return 0;
}

/* Option o was given (with arg, NULL for none): do what it says. */
static gfsb_err
apply(struct gfsb_ctx *ctx, const struct gfsb_opt *o, const char *arg,
    void *cookie)
{
	char flag[80];
	const char *what = o->label ? o->label : flag;
	uint64_t u;
	int64_t d;
	double f;

	snprintf(flag, sizeof(flag), "--%s", o->name);
	if (o->given != NULL)
		*o->given = o->name;
	switch (o->kind) {
	case GFSB_OPT_KIND_SET:
		*(int *)o->value = (int)o->min;
		return GFSB_OK;
	case GFSB_OPT_KIND_COUNT:
		++*(int *)o->value;
		return GFSB_OK;
	case GFSB_OPT_KIND_ACTION:
	case GFSB_OPT_KIND_CALLBACK:
		return o->cb(ctx, o, arg, cookie);
	case GFSB_OPT_KIND_STRING:
	case GFSB_OPT_KIND_LIST:
	case GFSB_OPT_KIND_TAG:
	case GFSB_OPT_KIND_SPLIT:
	case GFSB_OPT_KIND_ABSPATH:
		return text(ctx, o, what, arg);
	case GFSB_OPT_KIND_NUMBER:
		return number(ctx, o, what, arg);
	case GFSB_OPT_KIND_SIZE:
		if (gfsb_size_parse(arg, &u) != GFSB_OK ||
		    u < (uint64_t)o->min || u > (uint64_t)o->max)
			break;
		store(o->value, o->size, (long long)u);
		return GFSB_OK;
	case GFSB_OPT_KIND_DURATION:
		if (gfsb_gfs_margin_parse(arg, &d) != GFSB_OK || d < o->min)
			break;
		*(int64_t *)o->value = d;
		return GFSB_OK;
	case GFSB_OPT_KIND_TIME:
		if (gfsb_time_parse_local(arg, o->value) == GFSB_OK)
			return GFSB_OK;
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid %s \"%s\"%s",
		    what, arg, o->hint ? o->hint : "");
	case GFSB_OPT_KIND_PERCENT:
		if ((f = percent(arg)) < 0)
			break;
		*(double *)o->value = f;
		return GFSB_OK;
	case GFSB_OPT_KIND_ENUM:
	case GFSB_OPT_KIND_SET_OF:
		return one_of(ctx, o, arg);
	case GFSB_OPT_KIND_PAST:
		return past(ctx, o, what, arg);
	case GFSB_OPT_KIND_KIB:
		if (kib(o, arg) != 0)
			break;
		return GFSB_OK;
	}
	return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "invalid %s %s%s", what, arg,
	    o->hint ? o->hint : "");
}

/* Levenshtein distance of a and b, or more than max (stops early). */
static size_t
distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[64], prev, tmp;

	if (la >= sizeof(d) / sizeof(d[0]) || lb >= sizeof(d) / sizeof(d[0]))
		return max + 1;
	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		prev = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = d[j];
			d[j] = a[i - 1] == b[j - 1] ? prev : 1 + (prev < d[j] ?
			    (prev < d[j - 1] ? prev : d[j - 1]) :
			    (d[j] < d[j - 1] ? d[j] : d[j - 1]));
			prev = tmp;
		}
	}
	return d[lb];
}

const char *
gfsb_opt_closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t i, k, bestd = 3; /* at most 2 edits away */

	for (i = 0; i < n; i++)
		if ((k = distance(word, cands[i], 2)) < bestd) {
			bestd = k;
			best = cands[i];
		}
	return best;
}

/* How many of t's long names start with the n bytes of word; *exact:
 * one of them is word. */
static size_t
prefixed(const struct tables *t, const char *word, size_t n, int *exact)
{
	size_t i, k = 0;

	*exact = 0;
	for (i = 0; i < t->n; i++)
		if (strncmp(t->lo[i].name, word, n) == 0) {
			k++;
			*exact |= t->lo[i].name[n] == '\0';
		}
	return k;
}

/*
 * getopt refused arg (the word it stopped at; ':' for a missing value):
 * say why in one line.
 */
static gfsb_err
refused(struct gfsb_ctx *ctx, const struct tables *t, const char *arg,
    int code)
{
	const char *names[GFSB_OPT_MAX], *best;
	size_t i, n;
	int exact;

	if (arg == NULL || code == ':')
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "option '%s' needs "
		    "a value", arg != NULL ? arg : "");
	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "unrecognized "
		    "option '%s'", arg);
	arg += 2;
	n = strcspn(arg, "=");
	if (prefixed(t, arg, n, &exact) > 0 && exact)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "option '--%.*s' "
		    "takes no value", (int)n, arg);
	if (prefixed(t, arg, n, &exact) > 1)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "option '--%.*s' is "
		    "ambiguous: give its whole name", (int)n, arg);
	for (i = 0; i < t->n; i++)
		names[i] = t->lo[i].name;
	if (n < 64) {
		char word[64];

		memcpy(word, arg, n);
		word[n] = '\0';
		if ((best = gfsb_opt_closest(word, names, t->n)) != NULL)
			return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "unrecognized "
			    "option '--%s': did you mean --%s?", word, best);
	}
	return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "unrecognized option '--%.*s'",
	    (int)n, arg);
}

/* The word getopt stopped at: the long option it was in, else the
 * short option (written into shortopt, "-?"); NULL if unknown. */
static const char *
stopped_at(int argc, char **argv, char *shortopt)
{
	const char *w = optind > 0 && optind <= argc ? argv[optind - 1] :
	    NULL;

	if (w != NULL && strncmp(w, "--", 2) == 0)
		return w;
	if (optopt > 0 && optopt < LONG_ONLY) {
		shortopt[1] = (char)optopt;
		return shortopt;
	}
	return w;
}

/* Append table's entries to t. */
static gfsb_err
add_table(struct gfsb_ctx *ctx, struct tables *t, const struct gfsb_opt *o)
{
	for (; o != NULL && o->name != NULL; o++) {
		if (t->n == GFSB_OPT_MAX)
			return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "more than %d "
			    "options", GFSB_OPT_MAX);
		t->all[t->n++] = *o;
	}
	return GFSB_OK;
}

/* getopt_long's tables for the entries in t->all. */
static void
build(struct tables *t)
{
	const struct gfsb_opt *o;
	size_t i, k = 0;

	/* ':' first: a missing value is told from an unknown option. */
	t->letters[k++] = ':';
	for (i = 0; i < t->n; i++) {
		o = &t->all[i];
		t->lo[i].name = o->name;
		t->lo[i].has_arg = o->kind == GFSB_OPT_KIND_SET ||
		    o->kind == GFSB_OPT_KIND_COUNT ||
		    o->kind == GFSB_OPT_KIND_ACTION ? no_argument :
		    required_argument;
		t->lo[i].flag = NULL;
		t->lo[i].val = o->letter ? o->letter : LONG_ONLY;
		if (o->letter != 0)
			t->letters[k++] = (char)o->letter;
		if (o->letter != 0 && t->lo[i].has_arg == required_argument)
			t->letters[k++] = ':';
	}
	memset(&t->lo[t->n], 0, sizeof(t->lo[t->n]));
	t->letters[k] = '\0';
}

/* The option of t with this short letter; NULL: none. */
static const struct gfsb_opt *
find(const struct tables *t, int letter)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->all[i].letter == letter)
			return &t->all[i];
	return NULL;
}

gfsb_err
gfsb_opt_parse(struct gfsb_ctx *ctx, int argc, char **argv,
    const struct gfsb_opt *common, const struct gfsb_opt *opts,
    int max_args, void *cookie)
{
	struct tables *t;
	char shortopt[3] = "-?";
	const struct gfsb_opt *o;
	gfsb_err e = GFSB_OK;
	int c, i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return GFSB_ENOMEM;
	if ((e = add_table(ctx, t, common)) != GFSB_OK ||
	    (e = add_table(ctx, t, opts)) != GFSB_OK)
		goto out;
	build(t);
	optind = 0; /* glibc: start again, from argv[1] */
	opterr = 0;
	while ((c = getopt_long(argc, argv, t->letters, t->lo, &i)) != -1) {
		o = c == LONG_ONLY ? &t->all[i] : find(t, c);
		if (c == '?' || c == ':' || o == NULL) {
			e = refused(ctx, t, stopped_at(argc, argv, shortopt),
			    c);
			goto out;
		}
		if ((e = apply(ctx, o, optarg, cookie)) != GFSB_OK)
			goto out;
	}
	if (max_args != GFSB_OPT_ANY_ARGS && argc - optind > max_args)
		e = gfsb_ctx_seterr(ctx, GFSB_EINVAL, "unexpected argument %s",
		    argv[optind + max_args]);
out:
	free(t);
	return e;
}
