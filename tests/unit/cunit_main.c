/* Shared main() for the CUnit test executables: each test file defines ek_register_tests(),
 * which adds its suite(s); this runs them in basic mode and exits non-zero on any failure, so
 * each executable is one ctest entry (see ek_test() in the top CMakeLists.txt).
 *
 * It also owns the temporary directories the tests make with ek_test_mkdtemp() (test_util.h):
 * when every test passed they are removed with all they contain, so a test run leaves nothing in
 * /tmp; when one failed they are kept and listed on stderr for a look at what the test wrote. */
#define _XOPEN_SOURCE 700
#include "test_util.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ek_register_tests(void);

static char **tmpdirs;
static size_t n_tmpdirs;

char *ek_test_mkdtemp(char *tmpl)
{
    if (!mkdtemp(tmpl)) return NULL;
    char **grown = realloc(tmpdirs, (n_tmpdirs + 1) * sizeof *grown);
    char *copy = strdup(tmpl);
    if (!grown || !copy) {
        fprintf(stderr, "out of memory registering %s\n", tmpl);
        exit(2);
    }
    tmpdirs = grown;
    tmpdirs[n_tmpdirs++] = copy;
    return tmpl;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT) fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

/* Removes (passed) or lists (failed) every registered directory; one a test removed itself is
 * simply gone already. */
static void tmpdirs_done(int failed)
{
    for (size_t i = 0; i < n_tmpdirs; i++) {
        if (failed) fprintf(stderr, "kept temporary directory %s\n", tmpdirs[i]);
        else if (nftw(tmpdirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
            fprintf(stderr, "cannot remove %s: %s\n", tmpdirs[i], strerror(errno));
        free(tmpdirs[i]);
    }
    free(tmpdirs);
    tmpdirs = NULL;
    n_tmpdirs = 0;
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    ek_register_tests();
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    tmpdirs_done(failed != 0 || ran == 0);
    if (ran == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return failed ? 1 : 0;
}
