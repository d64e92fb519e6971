/* Tests for the hashing functions (sql/func_hash.c) against known digests. */
#include "tests/unit/test_sql_func_util.h"

static void test_hashes(void)
{
    const char *fox = "[\"The quick brown fox jumps over the lazy dog\"]";
    fcheck("md5", fox, "\"9e107d9d372bb6826bd81d3542a419d6\"");
    fcheck("sha1", fox, "\"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12\"");
    fcheck("sha224", fox, "\"730e109bd7a8a32b1cb9d9a09aa2325d2430587ddbc0c38bad911525\"");
    fcheck("sha256", fox, "\"d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592\"");
    fcheck("sha384", fox, "\"ca737f1014a48f4c0b6dd43cb177b0afd9e5169367544c494011e3317dbf9a509cb1e5dc1e85a941bbee3d7f2afbc9b1\"");
    fcheck("sha512", fox, "\"07e547d9586f6a73f73fbac0435ed76951218fb7d0c8d788a309d785436bbb642e93a252a954f23912547d1e8a3b5ed6e1bfd7097821233fa0538f3db854fee6\"");
    fcheck("crc32", fox, "\"414fa339\"");
    fcheck("md5", "[\"\"]", "\"d41d8cd98f00b204e9800998ecf8427e\"");
    /* Non-strings hash their string form, as eKuiper's ToStringAlways gives it. */
    fcheck("md5", "[1]", "\"c4ca4238a0b923820dcc509a6f75849b\"");
    fcheck("crc32", "[123]", "\"884863d2\"");
    static const char *const all[] = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "crc32", NULL};
    for (int i = 0; all[i]; i++) fcheck(all[i], "[null]", "null");
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"hashes", test_hashes},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_hash", cases);
}
