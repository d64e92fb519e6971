/* Unit tests for ek_base64_decode (engine/base64.c), the one base64 decoder behind SQL decode(),
 * JWT segments and secrets, and the broker's PBKDF2 password hashes: each form decodes its own
 * alphabet with and without padding as that form wants, and refuses the others' characters, bad
 * lengths and bad padding. */
#include "engine/base64.h"
#include "tests/unit/test_util.h"

#include <string.h>

static long dec(const char *in, ek_b64_form form, char *out)
{
    uint8_t buf[64];
    long n = ek_base64_decode(in, strlen(in), form, buf);
    if (n >= 0) {
        memcpy(out, buf, (size_t)n);
        out[n] = 0;
    }
    return n;
}

static void test_std(void)
{
    char out[64];
    CU_ASSERT_EQUAL(dec("", EK_B64_STD, out), 0);
    CU_ASSERT_EQUAL(dec("aGk=", EK_B64_STD, out), 2);
    CU_ASSERT_STRING_EQUAL(out, "hi");
    CU_ASSERT_EQUAL(dec("aA==", EK_B64_STD, out), 1);
    CU_ASSERT_STRING_EQUAL(out, "h");
    CU_ASSERT_EQUAL(dec("aGV5", EK_B64_STD, out), 3);
    CU_ASSERT_STRING_EQUAL(out, "hey");
    CU_ASSERT_EQUAL(dec("Pz8/", EK_B64_STD, out), 3); /* "???" uses '/' */
    CU_ASSERT_STRING_EQUAL(out, "???");
    CU_ASSERT_EQUAL(dec("aGk", EK_B64_STD, out), -1);   /* padding required */
    CU_ASSERT_EQUAL(dec("a-k=", EK_B64_STD, out), -1);  /* url alphabet */
    CU_ASSERT_EQUAL(dec("a!k=", EK_B64_STD, out), -1);
}

static void test_url(void)
{
    char out[64];
    CU_ASSERT_EQUAL(dec("aGk", EK_B64_URL, out), 2);
    CU_ASSERT_STRING_EQUAL(out, "hi");
    CU_ASSERT_EQUAL(dec("Pz8_", EK_B64_URL, out), 3);
    CU_ASSERT_STRING_EQUAL(out, "???");
    CU_ASSERT_EQUAL(dec("-_-_", EK_B64_URL, out), 3);
    CU_ASSERT_EQUAL(dec("Pz8/", EK_B64_URL, out), -1);  /* standard alphabet */
    CU_ASSERT_EQUAL(dec("aGk=", EK_B64_URL, out), -1);  /* padding */
    CU_ASSERT_EQUAL(dec("aGVsb", EK_B64_URL, out), -1); /* 4n+1 characters */
    /* longer than the stack buffer of the translation */
    char big[201], want[151];
    for (int i = 0; i < 200; i++) big[i] = 'A';
    big[200] = 0;
    memset(want, 0, sizeof want);
    uint8_t buf[160];
    CU_ASSERT_EQUAL(ek_base64_decode(big, 200, EK_B64_URL, buf), 150);
    CU_ASSERT_EQUAL(memcmp(buf, want, 150), 0);
}

static void test_passlib(void)
{
    char out[64];
    CU_ASSERT_EQUAL(dec("Pz8.", EK_B64_PASSLIB, out), 3); /* '.' for '+': ">?>" is Pj8+ */
    CU_ASSERT_EQUAL(dec("Pj8.", EK_B64_PASSLIB, out), 3);
    CU_ASSERT_STRING_EQUAL(out, ">?>");
    CU_ASSERT_EQUAL(dec("aGk", EK_B64_PASSLIB, out), 2);
    CU_ASSERT_STRING_EQUAL(out, "hi");
    CU_ASSERT_EQUAL(dec("aGk=", EK_B64_PASSLIB, out), -1);
    CU_ASSERT_EQUAL(dec("a-k", EK_B64_PASSLIB, out), -1);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"standard, padded", test_std},
        {"base64url, unpadded", test_url},
        {"passlib's adapted alphabet", test_passlib},
        {NULL, NULL},
    };
    ek_add_suite("base64", cases);
}
