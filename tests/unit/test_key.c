/*
 * key (gfsb_ops_key) on an in-memory repository: the table, a key added
 * and the passphrases that open the repository after each change, a
 * change refused while another process holds a lock, the key in use
 * never removed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gfsbackup/ops.h>
#include <gfsbackup/repo.h>

#include "fixture.h"

#define PASS "key pass"

/* The lines told, each ending in '\n'. */
struct told {
	char all[4096];
	size_t n;
};

static void
collect(void *cookie, enum gfsb_ops_line kind, const char *line)
{
	struct told *t = cookie;

	assert_int_equal(kind, GFSB_OPS_LINE_RESULT);
	t->n++;
	strncat(t->all, line, sizeof(t->all) - strlen(t->all) - 2);
	strcat(t->all, "\n");
}

/* Does pass open x's repository? */
static gfsb_err
opens(struct fx_repo *x, const char *pass)
{
	struct gfsb_repo *r = NULL;
	gfsb_err e = gfsb_repo_open(x->ctx, x->be, pass, strlen(pass), &r);

	gfsb_repo_close(r);
	gfsb_ctx_clearerr(x->ctx);
	return e;
}

static gfsb_err
key(struct fx_repo *x, enum gfsb_key_verb verb, const char *arg,
    struct told *t)
{
	struct gfsb_key_opts o = { .verb = verb };

	memset(t, 0, sizeof(*t));
	if (verb == GFSB_KEY_REMOVE)
		o.id = arg;
	else if (arg != NULL) {
		o.pass = arg;
		o.passlen = strlen(arg);
	}
	return gfsb_ops_key(x->r, &o, collect, t);
}

static void
test_key_verbs(void **state)
{
	enum gfsb_key_verb v;

	(void)state;
	assert_int_equal(gfsb_ops_key_verb_parse("list", &v), GFSB_OK);
	assert_int_equal(v, GFSB_KEY_LIST);
	assert_int_equal(gfsb_ops_key_verb_parse("remove", &v), GFSB_OK);
	assert_int_equal(v, GFSB_KEY_REMOVE);
	assert_int_equal(gfsb_ops_key_verb_parse("delete", &v), GFSB_EINVAL);
	assert_int_equal(gfsb_ops_key_verb_parse("", &v), GFSB_EINVAL);
}

static void
test_add_list_remove(void **state)
{
	struct fx_repo x;
	struct gfsb_lock *lock;
	struct told t;
	char other[16], mine[16], *star;

	(void)state;
	fx_repo_new(&x, PASS, 0);
	assert_int_equal(key(&x, GFSB_KEY_ADD, "second", &t), GFSB_OK);
	assert_int_equal(t.n, 1);
	assert_int_equal(strncmp(t.all, "key ", 4), 0);
	assert_non_null(strstr(t.all, " added\n"));
	memcpy(other, t.all + 4, 8);
	other[8] = '\0';
	assert_int_equal(opens(&x, "second"), GFSB_OK);
	assert_int_equal(opens(&x, PASS), GFSB_OK);

	/* The table: a heading, two keys, the one in use starred. */
	assert_int_equal(key(&x, GFSB_KEY_LIST, NULL, &t), GFSB_OK);
	assert_int_equal(t.n, 3);
	assert_non_null(strstr(t.all, other));
	assert_non_null(star = strstr(t.all, "\n* "));
	memcpy(mine, star + 3, 8);
	mine[8] = '\0';
	assert_string_not_equal(mine, other);

	/* Never the key in use; a change waits for no lock. */
	assert_int_equal(key(&x, GFSB_KEY_REMOVE, mine, &t), GFSB_EINVAL);
	assert_int_equal(t.n, 0);
	assert_int_equal(gfsb_repo_lock(x.r, GFSB_REPO_LOCK_SHARED, &lock),
	    GFSB_OK);
	assert_int_equal(key(&x, GFSB_KEY_REMOVE, other, &t), GFSB_ELOCKED);
	gfsb_repo_unlock(lock);
	assert_int_equal(opens(&x, "second"), GFSB_OK);
	gfsb_ctx_clearerr(x.ctx);

	/* Revoked: the other passphrase opens nothing after. */
	assert_int_equal(key(&x, GFSB_KEY_REMOVE, other, &t), GFSB_OK);
	assert_int_equal(strncmp(t.all + 4, other, 8), 0);
	assert_string_equal(t.all + 12, " removed\n");
	assert_int_equal(opens(&x, "second"), GFSB_EAUTH);
	assert_int_equal(key(&x, GFSB_KEY_REMOVE, "ffffffff", &t),
	    GFSB_ENOTFOUND);
	fx_repo_free(&x);
}

static void
test_passwd(void **state)
{
	struct fx_repo x;
	struct told t;

	(void)state;
	fx_repo_new(&x, PASS, 0);
	assert_int_equal(key(&x, GFSB_KEY_PASSWD, "changed", &t), GFSB_OK);
	assert_string_equal(t.all, "passphrase changed\n");
	assert_int_equal(opens(&x, "changed"), GFSB_OK);
	assert_int_equal(opens(&x, PASS), GFSB_EAUTH);
	/* Nobody told: the change is still made. */
	{
		struct gfsb_key_opts o = { .verb = GFSB_KEY_PASSWD,
		    .pass = "third", .passlen = 5 };

		assert_int_equal(gfsb_ops_key(x.r, &o, NULL, NULL), GFSB_OK);
	}
	assert_int_equal(opens(&x, "third"), GFSB_OK);
	fx_repo_free(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_verbs),
		cmocka_unit_test(test_add_list_remove),
		cmocka_unit_test(test_passwd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
