/* Every public header compiles on its own: CMake compiles one translation
 * unit per header (tests/CMakeLists.txt, header_check); this program only
 * links them, so the build itself is the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

void gfsb_header_check_linked(void);

static void
test_headers_stand_alone(void **state)
{
	(void)state;
	gfsb_header_check_linked();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_stand_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
