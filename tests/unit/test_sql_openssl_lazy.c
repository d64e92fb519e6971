/* Tests that OpenSSL is loaded on first use (engine/openssl_lazy.c): this test program, like
 * kuiperd, does not link libcrypto, so it is not mapped until a SQL function first needs it; then
 * the hash, base64 and random functions give OpenSSL's answers for known vectors, and libssl, which
 * only TLS listeners need, stays unmapped. A broken forwarder (a wrong soname, a missing symbol, a
 * mismatched prototype) fails here with a wrong digest or an error. */
#include "tests/unit/test_sql_func_util.h"

#include <stdbool.h>

static bool mapped(const char *lib)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, lib) != NULL;
    fclose(f);
    return found;
}

/* One test, in order: what is mapped before the first call is the point. */
static void test_loaded_on_first_use(void)
{
    CU_ASSERT_FALSE(mapped("libcrypto.so"));
    CU_ASSERT_FALSE(mapped("libssl.so"));
    /* FIPS 180-2 and RFC 1321 test vectors. */
    fcheck("sha256", "[\"abc\"]", "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"");
    CU_ASSERT_TRUE(mapped("libcrypto.so"));
    fcheck("md5", "[\"abc\"]", "\"900150983cd24fb0d6963f7d28e17f72\"");
    fcheck("sha1", "[\"abc\"]", "\"a9993e364706816aba3e25717850c26c9cd0d89d\"");
    fcheck("sha512", "[\"abc\"]",
           "\"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
           "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f\"");
    fcheck("encode", "[\"hello\", \"base64\"]", "\"aGVsbG8=\"");
    ek_value out;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(fcall("decode", NULL, "[\"aGVsbG8=\", \"base64\"]", &out, &err), 0);
    CU_ASSERT_EQUAL(out.type, EK_T_BYTES);
    CU_ASSERT_EQUAL(ek_str_len(&out), 5);
    CU_ASSERT_EQUAL(memcmp(ek_str_ptr(&out), "hello", 5), 0);
    ek_value_unref(&out);
    CU_ASSERT_FALSE(mapped("libssl.so"));
}

/* newuuid draws its bytes from RAND_bytes: two calls differ and carry the version 4 marks. */
static void test_random_through_openssl(void)
{
    ek_value a, b;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(fcall("newuuid", NULL, "[]", &a, &err), 0);
    CU_ASSERT_EQUAL_FATAL(fcall("newuuid", NULL, "[]", &b, &err), 0);
    const char *sa = ek_str_ptr(&a), *sb = ek_str_ptr(&b);
    CU_ASSERT_EQUAL(strlen(sa), 36);
    CU_ASSERT_EQUAL(sa[14], '4');
    CU_ASSERT_PTR_NOT_NULL(strchr("89ab", sa[19]));
    CU_ASSERT_STRING_NOT_EQUAL(sa, sb);
    ek_value_unref(&a);
    ek_value_unref(&b);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"loaded on first use", test_loaded_on_first_use},
        {"random through OpenSSL", test_random_through_openssl},
        {NULL, NULL},
    };
    ek_add_suite("sql_openssl_lazy", cases);
}
