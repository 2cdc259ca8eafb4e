/* Unit tests of the report module (placeholder, written next). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <gfsbackup/report.h>

static void
test_status_rises(void **state)
{
	struct gfsb_report r;

	(void)state;
	gfsb_report_init(&r);
	assert_int_equal(r.status, GFSB_REPORT_OK);
	assert_int_equal(gfsb_report_add_warning(&r, "w %d", 1), GFSB_OK);
	assert_int_equal(r.status, GFSB_REPORT_WARNING);
	assert_int_equal(gfsb_report_add_error(&r, "e"), GFSB_OK);
	assert_int_equal(gfsb_report_add_warning(&r, "w2"), GFSB_OK);
	assert_int_equal(r.status, GFSB_REPORT_FAILED);
	assert_string_equal(r.warnings[0], "w 1");
	gfsb_report_fini(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_rises),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
