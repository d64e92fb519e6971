/* Shared main() for the CUnit test executables: each test file defines ek_register_tests(),
 * which adds its suite(s); this runs them in basic mode and exits non-zero on any failure, so
 * each executable is one ctest entry (see ek_test() in the top CMakeLists.txt). */
#include <CUnit/Basic.h>
#include <stdio.h>

void ek_register_tests(void);

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    ek_register_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return failed ? 1 : 0;
}
