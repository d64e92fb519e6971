/* Small helpers shared by the CUnit tests: registering a suite from a table of cases, and
 * temporary directories that the run removes when it passes (see cunit_main.c). */
#ifndef EK_TEST_UTIL_H
#define EK_TEST_UTIL_H

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct ek_test_case {
    const char *name;
    void (*fn)(void);
} ek_test_case;

/* mkdtemp(tmpl) that also registers the directory: cunit_main.c removes it with all it contains
 * after the run when every test passed, and keeps it (naming it on stderr) when one failed. A
 * test may still remove it earlier itself. Use it for every directory a test makes. */
char *ek_test_mkdtemp(char *tmpl);

static inline void ek_add_suite(const char *name, const ek_test_case *cases)
{
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (!s) {
        fprintf(stderr, "cannot add suite %s\n", name);
        exit(2);
    }
    for (; cases->name; cases++) CU_add_test(s, cases->name, cases->fn);
}

#endif
