/*
 * opt: declared options parsed and checked, and every refusal one line
 * that names the option and what it takes.
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_positional_arguments),
		cmocka_unit_test(test_refusals_name_what_is_wrong),
		cmocka_unit_test(test_closest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
