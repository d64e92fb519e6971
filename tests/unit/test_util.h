/* Small helpers shared by the CUnit tests: registering a suite from a table of cases. */
#ifndef EK_TEST_UTIL_H
#define EK_TEST_UTIL_H

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct ek_test_case {
    const char *name;
    void (*fn)(void);
} ek_test_case;

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
