/*
 * opt: declared options parsed and checked, and every refusal one line
 * that names the option and what it takes; then the callbacks whose
 * values are the engines' settings (ops_opt.c: an Object Lock mode,
 * verify's read option, a retention rule).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gfsbackup/gfs.h>
#include <gfsbackup/ops.h>
#include <gfsbackup/opt.h>
#include <gfsbackup/util.h>

/* Every kind of option, and where their values go. */
struct vals {
	int flag, count, level, mode, acted;
	unsigned groups;
	const char *name, *given;
	struct gfsb_opt_list list;
	uint32_t threads;
	uint64_t size;
	int64_t dur;
	struct gfsb_time when;
	double frac;
	const char *cb_arg;
};

static const struct gfsb_opt_enum modes[] = {
	{ "never", 1 }, { "always", 2 }, { "sometimes", 3 }, { NULL, 0 }
};

static const struct gfsb_opt_enum groups[] = {
	{ "host", 1 }, { "paths", 2 }, { "tags", 4 }, { NULL, 0 }
};

static gfsb_err
act(struct gfsb_ctx *ctx, const struct gfsb_opt *o, const char *arg,
    void *cookie)
{
	struct vals *v = cookie;

	(void)ctx;
	assert_null(arg);
	assert_ptr_equal(o->value, &v->acted);
	v->acted++;
	return GFSB_OK;
}

/* A callback that refuses "bad" in its own words. */
static gfsb_err
check(struct gfsb_ctx *ctx, const struct gfsb_opt *o, const char *arg,
    void *cookie)
{
	struct vals *v = cookie;

	(void)o;
	if (strcmp(arg, "bad") == 0)
		return gfsb_ctx_seterr(ctx, GFSB_EINVAL, "not that one");
	v->cb_arg = arg;
	return GFSB_OK;
}

/* Parse the words (NULL-ended, after a command name) into v, with common
 * options and a command's; the error's detail into why. */
static gfsb_err
parse_words(struct vals *v, int max_args, char *why, size_t len, ...)
{
	const struct gfsb_opt common[] = {
		GFSB_OPT_FLAG("quiet", 'q', &v->flag),
		GFSB_OPT_COUNT("verbose", 'v', &v->count),
		GFSB_OPT_END
	};
	const struct gfsb_opt opts[] = {
		GFSB_OPT_STRING("name", 'N', &v->name),
		GFSB_OPT_LIST("exclude", 'e', &v->list),
		GFSB_OPT_LIST("exclude-file", 0, &v->list),
		GFSB_OPT_NUMBER("threads", 0, &v->threads, 1, 64, NULL),
		GFSB_OPT_NUMBER("level", 0, &v->level, 0, 19, "level"),
		GFSB_OPT_SIZE("limit", 0, &v->size, 1 << 20, NULL),
		GFSB_OPT_DURATION("margin", 0, &v->dur, 60, ": give e.g. 2d"),
		{ GFSB_OPT_(TIME, "time", 0, &v->when), .given = &v->given },
		GFSB_OPT_PERCENT("unused", 0, &v->frac, NULL),
		GFSB_OPT_ENUM("mode", 0, &v->mode, modes),
		GFSB_OPT_SET_OF("group-by", 'g', &v->groups, groups),
		GFSB_OPT_ACTION("act", 0, &v->acted, act),
		GFSB_OPT_CALLBACK("check", 0, v, check),
		GFSB_OPT_SET("loud", 0, &v->flag, 7),
		GFSB_OPT_END
	};
	struct gfsb_ctx *ctx;
	char *argv[48];
	va_list ap;
	int argc = 0;
	gfsb_err e;

	argv[argc++] = (char *)"cmd";
	va_start(ap, len);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		assert_true(++argc < 48);
	va_end(ap);
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	e = gfsb_opt_parse(ctx, argc, argv, common, opts, max_args, v);
	snprintf(why, len, "%s", gfsb_ctx_errmsg(ctx));
	gfsb_ctx_free(ctx);
	return e;
}

/* The words are refused with a detail that holds want. */
static void
refused(int max_args, const char *want, ...)
{
	struct vals v;
	char why[512], *argv[16];
	va_list ap;
	int n = 0;

	memset(&v, 0, sizeof(v));
	memset(argv, 0, sizeof(argv));
	va_start(ap, want);
	while ((argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	assert_int_equal(parse_words(&v, max_args, why, sizeof(why), argv[0],
	    argv[1], argv[2], argv[3], argv[4], NULL), GFSB_EINVAL);
	if (strstr(why, want) == NULL)
		fail_msg("\"%s\": want \"%s\"", why, want);
	assert_null(strchr(why, '\n'));
	free(v.list.v);
}

static void
test_every_kind(void **state)
{
	struct vals v;
	char why[512];

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(parse_words(&v, GFSB_OPT_ANY_ARGS, why, sizeof(why),
	    "-q", "-vv", "--verbose", "--name", "one", "-Ntwo", "-e", "a",
	    "--exclude=b", "--exclude-file", "c", "--threads", "64",
	    "--level", "0", "--limit", "1MiB", "--margin", "1d12h",
	    "--time", "2026-01-02 03:04:05", "--unused", "0.5%",
	    "--mode", "always", "-g", "tags,host", "--act", "--check",
	    "ok", "pos1", "pos2", NULL), GFSB_OK);
	assert_string_equal(why, "");
	assert_int_equal(v.flag, 1);
	assert_int_equal(v.count, 3);
	assert_string_equal(v.name, "two"); /* the last one wins */
	assert_int_equal(v.list.n, 3);
	assert_string_equal(v.list.v[0], "a");
	assert_string_equal(v.list.v[1], "b");
	assert_string_equal(v.list.v[2], "c");
	assert_int_equal(v.threads, 64);
	assert_int_equal(v.level, 0);
	assert_int_equal(v.size, 1 << 20);
	assert_int_equal(v.dur, 36 * 3600);
	assert_string_equal(v.given, "time");
	assert_true(v.frac > 0.00499 && v.frac < 0.00501);
	assert_int_equal(v.mode, 2);
	assert_int_equal(v.groups, 5);
	assert_int_equal(v.acted, 1);
	assert_string_equal(v.cb_arg, "ok");
	free(v.list.v);

	/* Parsed again from the start (optind is reset). */
	memset(&v, 0, sizeof(v));
	assert_int_equal(parse_words(&v, 1, why, sizeof(why), "--loud",
	    "--group-by", "", "--unused", "5", "only", NULL), GFSB_OK);
	assert_int_equal(v.flag, 7);
	assert_int_equal(v.groups, 0);
	assert_true(v.frac > 0.0499 && v.frac < 0.0501);
}

static void
test_positional_arguments(void **state)
{
	struct vals v;
	char *argv[] = { (char *)"cmd", (char *)"x", (char *)"-q",
	    (char *)"y", NULL };
	const struct gfsb_opt opts[] = {
		GFSB_OPT_FLAG("quiet", 'q', &v.flag), GFSB_OPT_END
	};
	struct gfsb_ctx *ctx;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	/* Options may follow the arguments; these come last. */
	assert_int_equal(gfsb_opt_parse(ctx, 4, argv, NULL, opts, 2, NULL),
	    GFSB_OK);
	assert_int_equal(v.flag, 1);
	assert_int_equal(optind, 2);
	assert_string_equal(argv[optind], "x");
	assert_string_equal(argv[optind + 1], "y");
	assert_int_equal(gfsb_opt_parse(ctx, 4, argv, NULL, opts, 1, NULL),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "unexpected argument y");
	gfsb_ctx_free(ctx);
	refused(0, "unexpected argument x", "x", NULL);
}

static void
test_refusals_name_what_is_wrong(void **state)
{
	(void)state;
	refused(-1, "invalid --threads 0 (1 to 64)", "--threads", "0", NULL);
	refused(-1, "invalid --threads 65 (1 to 64)", "--threads", "65",
	    NULL);
	refused(-1, "invalid --threads 1x (1 to 64)", "--threads", "1x",
	    NULL);
	refused(-1, "invalid --threads  (1 to 64)", "--threads", "", NULL);
	refused(-1, "invalid level -1 (0 to 19)", "--level", "-1", NULL);
	refused(-1, "invalid --limit 2MiB", "--limit", "2MiB", NULL);
	refused(-1, "invalid --limit lots", "--limit", "lots", NULL);
	refused(-1, "invalid --margin 59s: give e.g. 2d", "--margin", "59s",
	    NULL);
	refused(-1, "invalid --margin 12h1d", "--margin", "12h1d", NULL);
	refused(-1, "invalid --time \"soon\"", "--time", "soon", NULL);
	refused(-1, "invalid --unused 101%", "--unused", "101%", NULL);
	refused(-1, "invalid --mode no: give never, always or sometimes",
	    "--mode", "no", NULL);
	refused(-1, "invalid --group-by host,zone: give host, paths or "
	    "tags, separated by commas", "-g", "host,zone", NULL);
	refused(-1, "not that one", "--check", "bad", NULL);
	refused(-1, "unrecognized option '--exlude': did you mean --exclude?",
	    "--exlude", "x", NULL);
	refused(-1, "unrecognized option '--frobnicate'", "--frobnicate",
	    NULL);
	refused(-1, "unrecognized option '-z'", "-z", NULL);
	refused(-1, "option '--threads' needs a value", "--threads", NULL);
	refused(-1, "option '-N' needs a value", "-N", NULL);
	refused(-1, "option '--quiet' takes no value", "--quiet=yes", NULL);
	refused(-1, "option '--exc' is ambiguous", "--exc", NULL);
}

static void
test_closest(void **state)
{
	const char *const c[] = { "backup", "restore", "prune", "verify" };

	(void)state;
	assert_string_equal(gfsb_opt_closest("bakcup", c, 4), "backup");
	assert_string_equal(gfsb_opt_closest("restor", c, 4), "restore");
	assert_string_equal(gfsb_opt_closest("prnue", c, 4), "prune");
	assert_null(gfsb_opt_closest("frobnicate", c, 4));
	assert_null(gfsb_opt_closest("", c, 4));
}

/* The kinds a command's own callbacks used to be: where they go. */
struct more {
	struct gfsb_opt_list tags, set, pats;
	struct gfsb_opt_strv to;
	const char *host, *dir, *set_given;
	int64_t past;
	uint64_t rate, drill;
};

/* Parse the words (NULL-ended) into m with the table below; GFSB_OK or
 * the refusal, whose detail goes to why. */
static gfsb_err
parse_more(struct more *m, char *why, size_t len, ...)
{
	const struct gfsb_opt opts[] = {
		GFSB_OPT_TAG("tag", 0, &m->tags),
		{ GFSB_OPT_(TAG, "set", 0, &m->set), .label = "tag", .min = 1,
		  .given = &m->set_given },
		GFSB_OPT_LIST_NONEMPTY("pattern", 'p', &m->pats,
		    "exclude pattern"),
		GFSB_OPT_NONEMPTY("host", 0, &m->host, "host name"),
		GFSB_OPT_SPLIT("mail-to", 0, &m->to),
		GFSB_OPT_PAST("as-of", 0, &m->past),
		GFSB_OPT_KIB("limit-upload", 0, &m->rate, " (KiB/s)"),
		GFSB_OPT_ABSPATH("cache-dir", 0, &m->dir),
		{ GFSB_OPT_(SIZE, "drill", 0, &m->drill),
		  .size = sizeof(m->drill), .min = 1,
		  .max = (long long)UINT64_MAX,
		  .hint = ": give a size, e.g. 256MiB or 2GiB" },
		GFSB_OPT_END
	};
	struct gfsb_ctx *ctx;
	char *argv[24];
	va_list ap;
	int argc = 0;
	gfsb_err e;

	argv[argc++] = (char *)"cmd";
	va_start(ap, len);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		assert_true(++argc < 24);
	va_end(ap);
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	e = gfsb_opt_parse(ctx, argc, argv, NULL, opts, 0, NULL);
	snprintf(why, len, "%s", gfsb_ctx_errmsg(ctx));
	gfsb_ctx_free(ctx);
	return e;
}

static void
more_fini(struct more *m)
{
	free(m->tags.v);
	free(m->set.v);
	free(m->pats.v);
	gfsb_strv_free(m->to.v, m->to.n);
	memset(m, 0, sizeof(*m));
}

/* One option's value is refused with exactly the line want. */
static void
refused_exactly(const char *want, const char *opt, const char *arg)
{
	struct more m;
	char why[512];

	memset(&m, 0, sizeof(m));
	assert_int_equal(parse_more(&m, why, sizeof(why), opt, arg, NULL),
	    GFSB_EINVAL);
	assert_string_equal(why, want);
	more_fini(&m);
}

static void
test_text_kinds(void **state)
{
	struct more m;
	char why[512];

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(parse_more(&m, why, sizeof(why), "--tag", "a",
	    "--tag", "b c", "--set", "x", "--set", "", "-p", "*.o",
	    "--host", "h1", "--mail-to", "a@x, b@y,,  c@z,",
	    "--mail-to", "d@w", "--cache-dir", "/var/cache/g", NULL),
	    GFSB_OK);
	assert_int_equal(m.tags.n, 2);
	assert_string_equal(m.tags.v[1], "b c");
	/* --set '' is given, and adds no tag. */
	assert_int_equal(m.set.n, 1);
	assert_string_equal(m.set.v[0], "x");
	assert_string_equal(m.set_given, "set");
	assert_string_equal(m.pats.v[0], "*.o");
	assert_string_equal(m.host, "h1");
	assert_int_equal(m.to.n, 4);
	assert_string_equal(m.to.v[0], "a@x");
	assert_string_equal(m.to.v[1], "b@y");
	assert_string_equal(m.to.v[2], "c@z");
	assert_string_equal(m.to.v[3], "d@w");
	assert_string_equal(m.dir, "/var/cache/g");
	more_fini(&m);

	/* An empty --mail-to adds nothing, and is not refused. */
	assert_int_equal(parse_more(&m, why, sizeof(why), "--mail-to", " ,",
	    NULL), GFSB_OK);
	assert_int_equal(m.to.n, 0);
	more_fini(&m);

	refused_exactly("invalid tag \"a,b\"", "--tag", "a,b");
	refused_exactly("invalid tag \"\"", "--tag", "");
	refused_exactly("invalid tag \"x,\"", "--set", "x,");
	refused_exactly("empty exclude pattern", "-p", "");
	refused_exactly("empty host name", "--host", "");
	refused_exactly("--cache-dir cache: give an absolute path",
	    "--cache-dir", "cache");
	refused_exactly("--cache-dir : give an absolute path", "--cache-dir",
	    "");
}

static void
test_number_kinds(void **state)
{
	struct more m;
	char why[512], future[64];
	struct gfsb_time t;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(parse_more(&m, why, sizeof(why), "--as-of",
	    "2020-02-03 04:05:06", "--limit-upload", "100", "--drill",
	    "256MiB", NULL), GFSB_OK);
	assert_int_equal(gfsb_time_parse_local("2020-02-03 04:05:06", &t),
	    GFSB_OK);
	assert_int_equal(m.past, t.sec);
	assert_int_equal(m.rate, 100 * 1024);
	assert_int_equal(m.drill, 256 << 20);
	more_fini(&m);

	refused_exactly("invalid --as-of soon: give 'YYYY-MM-DD HH:MM:SS'",
	    "--as-of", "soon");
	gfsb_time_now(&t);
	t.sec += 2 * 86400;
	gfsb_time_format_local(&t, future, sizeof(future));
	snprintf(why, sizeof(why), "--as-of %s is in the future: give a "
	    "moment of the past", future);
	refused_exactly(why, "--as-of", future);
	refused_exactly("--as-of 1969-12-31 00:00:00 is before 1970",
	    "--as-of", "1969-12-31 00:00:00");
	refused_exactly("invalid --limit-upload 0 (KiB/s)", "--limit-upload",
	    "0");
	refused_exactly("invalid --limit-upload 1k (KiB/s)", "--limit-upload",
	    "1k");
	refused_exactly("invalid --limit-upload  (KiB/s)", "--limit-upload",
	    "");
	/* Its bytes would not fit. */
	refused_exactly("invalid --limit-upload 9223372036854775807 (KiB/s)",
	    "--limit-upload", "9223372036854775807");
	refused_exactly("invalid --drill 0: give a size, e.g. 256MiB or 2GiB",
	    "--drill", "0");
	refused_exactly("invalid --drill big: give a size, e.g. 256MiB or "
	    "2GiB", "--drill", "big");
}

/* The engines' callbacks, in a table as a command declares them. */
static void
test_engine_callbacks(void **state)
{
	struct gfsb_check_args g;
	struct gfsb_policy *p;
	enum gfsb_lock_mode mode = GFSB_LOCK_NONE;
	struct gfsb_ctx *ctx;
	/* Not const: the rule's policy is made below. */
	struct gfsb_opt with[] = {
		GFSB_OPT_CALLBACK("object-lock", 0, &mode,
		    gfsb_ops_opt_lock_mode),
		GFSB_OPT_ACTION("read-data", 0, &g, gfsb_ops_opt_read_data),
		GFSB_OPT_CALLBACK("read-data-subset", 0, &g,
		    gfsb_ops_opt_read_data),
		GFSB_OPT_CALLBACK("keep-daily", 'd', NULL, gfsb_ops_opt_keep),
		GFSB_OPT_END
	};
	char *ok[] = { (char *)"cmd", (char *)"--object-lock",
	    (char *)"governance", (char *)"--read-data-subset",
	    (char *)"2/7", (char *)"-d", (char *)"7", NULL };
	char *twice[] = { (char *)"cmd", (char *)"--read-data-subset",
	    (char *)"rotate/7", (char *)"--read-data", NULL };
	char *none[] = { (char *)"cmd", (char *)"--object-lock", (char *)"none",
	    NULL };
	char *sub[] = { (char *)"cmd", (char *)"--read-data-subset",
	    (char *)"8/7", NULL };
	char *rule[] = { (char *)"cmd", (char *)"-d", (char *)"x", NULL };
	char *all[] = { (char *)"cmd", (char *)"--read-data", NULL };

	(void)state;
	assert_int_equal(gfsb_gfs_policy_new(&p), GFSB_OK);
	with[3].value = p;
	memset(&g, 0, sizeof(g));
	assert_int_equal(gfsb_ctx_new(&ctx), GFSB_OK);
	assert_int_equal(gfsb_opt_parse(ctx, 7, ok, NULL, with, 0, NULL),
	    GFSB_OK);
	assert_int_equal(mode, GFSB_LOCK_GOVERNANCE);
	assert_int_equal(g.read, GFSB_VERIFY_READ_SLICE);
	assert_int_equal(g.slice, 2);
	assert_int_equal(g.slices, 7);
	assert_false(gfsb_gfs_policy_empty(p));
	memset(&g, 0, sizeof(g));
	assert_int_equal(gfsb_opt_parse(ctx, 2, all, NULL, with, 0, NULL),
	    GFSB_OK);
	assert_int_equal(g.read, GFSB_VERIFY_READ_ALL);

	memset(&g, 0, sizeof(g));
	assert_int_equal(gfsb_opt_parse(ctx, 4, twice, NULL, with, 0, NULL),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "give --read-data or "
	    "--read-data-subset once");
	/* The context keeps the first detail: each parse its own. */
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_opt_parse(ctx, 3, none, NULL, with, 0, NULL),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "invalid --object-lock "
	    "none: give compliance or governance");
	memset(&g, 0, sizeof(g));
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_opt_parse(ctx, 3, sub, NULL, with, 0, NULL),
	    GFSB_EINVAL);
	assert_string_equal(gfsb_ctx_errmsg(ctx), "invalid --read-data-subset "
	    "8/7: give N/T, rotate/T or P%");
	gfsb_ctx_clearerr(ctx);
	assert_int_equal(gfsb_opt_parse(ctx, 3, rule, NULL, with, 0, NULL),
	    GFSB_EINVAL);
	if (strstr(gfsb_ctx_errmsg(ctx), "--keep-daily") == NULL)
		fail_msg("\"%s\": want --keep-daily", gfsb_ctx_errmsg(ctx));
	gfsb_gfs_policy_free(p);
	gfsb_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_positional_arguments),
		cmocka_unit_test(test_refusals_name_what_is_wrong),
		cmocka_unit_test(test_closest),
		cmocka_unit_test(test_text_kinds),
		cmocka_unit_test(test_number_kinds),
		cmocka_unit_test(test_engine_callbacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
