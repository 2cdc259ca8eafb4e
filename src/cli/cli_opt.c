/*
 * Option parsing for every subcommand, declared rather than written out
 * (git's parse-options): a command's table of struct cli_opt gives each
 * option's names, kind, destination and limits; cli_parse derives
 * getopt_long's tables from it and from the global options', and
 * converts and checks each value as it comes, in the order given (the
 * last of a repeated option wins; a list keeps them all; --help exits at
 * once).  Every error is a usage error (exit 2, said before anything is
 * opened) in the words the commands always used; only running out of
 * memory is fatal.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gfsbackup/backend.h>
#include <gfsbackup/gfs.h>
#include <gfsbackup/util.h>

#include "cli.h"

/* Room for the global options and the longest command's. */
#define OPTS_MAX 64

/* getopt_long's value for an option without a letter. */
#define LONG_ONLY 256

/* The options of one command, and getopt_long's tables for them. */
struct opt_tables {
	struct cli_opt all[OPTS_MAX];
	struct option lo[OPTS_MAX + 1];
	char letters[2 * OPTS_MAX + 1];
	size_t n;
};

int
cli_number(struct cli *c, const char *opt, const char *arg, long min,
    long max, long *out)
{
	char *end;
	long v = 0;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return cli_usage_error(c, "invalid %s %s (%ld to %ld)", opt,
		    arg, min, max);
	*out = v;
	return 0;
}

int
cli_list_add(struct cli *c, struct cli_list *l, const char *s)
{
	if (cli_strv_add(&l->v, &l->n, s) != 0)
		return cli_fail(c, GFSB_ENOMEM);
	return EXIT_OK;
}

int
cli_opt_tag(struct cli *c, const struct cli_opt *o, const char *arg)
{
	if (*arg == '\0' || strchr(arg, ',') != NULL)
		return cli_usage_error(c, "invalid tag \"%s\"", arg);
	return cli_list_add(c, o->value, arg);
}

int
cli_opt_lock_mode(struct cli *c, const struct cli_opt *o, const char *arg)
{
	return cli_lock_mode(c, arg, o->value);
}

/* -h: the command's help, then the global options'. */
static int
opt_help(struct cli *c, const struct cli_opt *o, const char *arg)
{
	(void)o;
	(void)arg;
	fputs(cli_help(c->cmd), stdout);
	fputs(cli_help("global"), stdout);
	exit(EXIT_OK);
}

/* --as-of: a moment of the past, in local time like every --time. */
static int
opt_as_of(struct cli *c, const struct cli_opt *o, const char *arg)
{
	struct gfsb_time t, now;

	if (gfsb_time_parse_local(arg, &t) != GFSB_OK)
		return cli_usage_error(c, "invalid --as-of %s: give "
		    "'YYYY-MM-DD HH:MM:SS'", arg);
	gfsb_time_now(&now);
	if (t.sec > now.sec)
		return cli_usage_error(c, "--as-of %s is in the future: give "
		    "a moment of the past", arg);
	if (t.sec <= 0)
		return cli_usage_error(c, "--as-of %s is before 1970", arg);
	*(int64_t *)o->value = t.sec;
	return EXIT_OK;
}

/* --limit-upload KIB: KiB/s, kept in bytes/s. */
static int
opt_limit_upload(struct cli *c, const struct cli_opt *o, const char *arg)
{
	char *end;
	long v = 0;

	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v < 1)
		return cli_usage_error(c, "invalid --limit-upload %s (KiB/s)",
		    arg);
	*(uint64_t *)o->value = (uint64_t)v * 1024;
	return EXIT_OK;
}

/* --cache-dir: absolute, as the cache outlives the working directory. */
static int
opt_cache_dir(struct cli *c, const struct cli_opt *o, const char *arg)
{
	if (*arg != '/')
		return cli_usage_error(c, "--cache-dir %s: give an absolute "
		    "path", arg);
	*(const char **)o->value = arg;
	return EXIT_OK;
}

/* The global options, for c, into out (in --help's order); how many. */
static size_t
global_opts(struct cli *c, struct cli_opt *out)
{
	const struct cli_opt g[] = {
		CLI_OPT_STRING("repo", 'r', &c->repo),
		CLI_OPT_STRING("password-file", 0, &c->password_file),
		CLI_OPT_STRING("password-command", 0, &c->password_command),
		CLI_OPT_FLAG("quiet", 'q', &c->quiet),
		CLI_OPT_COUNT("verbose", 'v', &c->verbose),
		CLI_OPT_ACTION("help", 'h', NULL, opt_help),
		CLI_OPT_STRING("s3-endpoint", 0, &c->remote.s3_endpoint),
		CLI_OPT_STRING("s3-region", 0, &c->remote.s3_region),
		CLI_OPT_STRING("s3-credentials-file", 0,
		    &c->remote.s3_credentials_file),
		CLI_OPT_FLAG("s3-virtual-host", 0, &c->remote.s3_virtual_host),
		CLI_OPT_STRING("cacert", 0, &c->remote.cacert),
		CLI_OPT_NUMBER("connections", 0, &c->remote.connections, 1,
		    GFSB_CONNECTIONS_MAX, NULL),
		CLI_OPT_CALLBACK("limit-upload", 0, &c->remote.limit_upload,
		    opt_limit_upload),
		CLI_OPT_CALLBACK("cache-dir", 0, &c->cache_dir, opt_cache_dir),
		CLI_OPT_FLAG("no-cache", 0, &c->no_cache),
		CLI_OPT_CALLBACK("as-of", 0, &c->as_of, opt_as_of),
		CLI_OPT_DURATION("retry-lock", 0, &c->retry_lock, 1,
		    ": give a duration like 30s, 10m or 2h"),
	};

	memcpy(out, g, sizeof(g));
	return sizeof(g) / sizeof(g[0]);
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

/* arg is not one of an ENUM's names: say which they are. */
static int
bad_enum(struct cli *c, const struct cli_opt *o, const char *arg)
{
	const struct cli_opt_enum *e;
	char list[256] = "";
	size_t n = 0;

	for (e = o->names; e->name != NULL && n < sizeof(list); e++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    e == o->names ? "" : e[1].name != NULL ? ", " : " or ",
		    e->name);
	return cli_usage_error(c, "invalid --%s %s: give %s", o->name, arg,
	    list);
}

/* Option o was given (with arg, NULL for none): do what it says. */
static int
apply(struct cli *c, const struct cli_opt *o, const char *arg)
{
	const struct cli_opt_enum *e;
	char flag[64];
	const char *what = o->label ? o->label : flag;
	uint64_t u;
	int64_t d;
	double f;
	long v = 0;

	snprintf(flag, sizeof(flag), "--%s", o->name);
	if (o->given != NULL)
		*o->given = o->name;
	switch (o->kind) {
	case CLI_KIND_SET:
		*(int *)o->value = (int)o->min;
		return EXIT_OK;
	case CLI_KIND_COUNT:
		++*(int *)o->value;
		return EXIT_OK;
	case CLI_KIND_ACTION:
	case CLI_KIND_CALLBACK:
		return o->cb(c, o, arg);
	case CLI_KIND_STRING:
		*(const char **)o->value = arg;
		return EXIT_OK;
	case CLI_KIND_LIST:
		return cli_list_add(c, o->value, arg);
	case CLI_KIND_NUMBER:
		if (cli_number(c, what, arg, (long)o->min, (long)o->max, &v))
			return EXIT_USAGE;
		store(o->value, o->size, v);
		return EXIT_OK;
	case CLI_KIND_SIZE:
		if (gfsb_size_parse(arg, &u) != GFSB_OK ||
		    u > (uint64_t)o->max)
			break;
		store(o->value, o->size, (long long)u);
		return EXIT_OK;
	case CLI_KIND_DURATION:
		if (gfsb_gfs_margin_parse(arg, &d) != GFSB_OK || d < o->min)
			break;
		*(int64_t *)o->value = d;
		return EXIT_OK;
	case CLI_KIND_TIME:
		if (gfsb_time_parse_local(arg, o->value) == GFSB_OK)
			return EXIT_OK;
		return cli_usage_error(c, "invalid %s \"%s\"%s", what, arg,
		    o->hint ? o->hint : "");
	case CLI_KIND_PERCENT:
		if ((f = percent(arg)) < 0)
			break;
		*(double *)o->value = f;
		return EXIT_OK;
	case CLI_KIND_ENUM:
		for (e = o->names; e->name != NULL; e++)
			if (strcmp(arg, e->name) == 0) {
				*(int *)o->value = e->value;
				return EXIT_OK;
			}
		return bad_enum(c, o, arg);
	}
	return cli_usage_error(c, "invalid %s %s%s", what, arg,
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
cli_closest(const char *word, const char *const *cands, size_t n)
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

/*
 * After getopt's own complaint about argv[optind - 1]: the long option
 * meant, if one is close, and where to read more.
 */
static int
bad_option(struct cli *c, int argc, char **argv,
    const struct option *longopts)
{
	const char *names[128], *arg, *best;
	char word[64];
	size_t n = 0;

	arg = optind > 0 && optind <= argc ? argv[optind - 1] : NULL;
	if (arg != NULL && strncmp(arg, "--", 2) == 0) {
		snprintf(word, sizeof(word), "%s", arg + 2);
		word[strcspn(word, "=")] = '\0';
		for (; longopts->name != NULL && n < 128; longopts++)
			names[n++] = longopts->name;
		if ((best = cli_closest(word, names, n)) != NULL)
			fprintf(stderr, "%s: %s: did you mean --%s?\n",
			    c->prog, c->cmd, best);
	}
	fprintf(stderr, "%s: %s: see `%s %s --help`\n", c->prog, c->cmd,
	    c->prog, c->cmd);
	return EXIT_USAGE;
}

/* At the end of the options: a past state cannot be written to, so say
 * so before anything is opened. */
static int
check_as_of(struct cli *c)
{
	if (c->as_of != 0 && !c->as_of_ok)
		return cli_usage_error(c, "--as-of reads a past state: it "
		    "cannot be used with %s", c->cmd);
	return EXIT_OK;
}

/* The global options, then cmd's, and getopt_long's tables for them. */
static void
build(struct cli *c, const struct cli_opt *cmd, struct opt_tables *t)
{
	const struct cli_opt *o;
	size_t i, k = 0;

	t->n = global_opts(c, t->all);
	for (; cmd->name != NULL; cmd++) {
		assert(t->n < OPTS_MAX);
		t->all[t->n++] = *cmd;
	}
	for (i = 0; i < t->n; i++) {
		o = &t->all[i];
		t->lo[i].name = o->name;
		t->lo[i].has_arg = o->kind == CLI_KIND_SET ||
		    o->kind == CLI_KIND_COUNT || o->kind == CLI_KIND_ACTION ?
		    no_argument : required_argument;
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
static const struct cli_opt *
find(const struct opt_tables *t, int letter)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->all[i].letter == letter)
			return &t->all[i];
	return NULL;
}

int
cli_parse(struct cli *c, int argc, char **argv,
    const struct cli_opt *opts, int max_args)
{
	struct opt_tables t;
	int o, i, rc;

	build(c, opts, &t);
	while ((o = getopt_long(argc, argv, t.letters, t.lo, &i)) != -1) {
		if (o == '?' || o == ':')
			return bad_option(c, argc, argv, t.lo);
		if ((rc = apply(c, o == LONG_ONLY ? &t.all[i] :
		    find(&t, o), optarg)) != EXIT_OK)
			return rc;
	}
	if ((rc = check_as_of(c)) != EXIT_OK)
		return rc;
	if (max_args != CLI_ANY && argc - optind > max_args)
		return cli_usage_error(c, "unexpected argument %s",
		    argv[optind + max_args]);
	return EXIT_OK;
}
