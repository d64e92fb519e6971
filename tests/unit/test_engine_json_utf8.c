/* Unit tests for invalid UTF-8 inside JSON strings: the decoder (engine/codec_json.c) replaces
 * every byte that does not start a well-formed sequence with U+FFFD, as Go's encoding/json does
 * for eKuiper, so a rule's output and its sinks always carry valid UTF-8. Table-driven: input
 * string bytes, the bytes expected after decoding. */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <string.h>

#define R "\xEF\xBF\xBD" /* U+FFFD */

typedef struct utf8_case {
    const char *in;   /* the bytes between the quotes of a JSON string */
    const char *want; /* the decoded string */
} utf8_case;

static const utf8_case cases[] = {
    {"plain ascii", "plain ascii"},
    {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"}, /* valid: untouched */
    {"\xC3\x28", R "("},                          /* bad continuation byte */
    {"a\xFF" "b", "a" R "b"},                     /* never valid in UTF-8 */
    {"\xC0\xAF", R R},                            /* overlong '/' */
    {"\xE0\x80\xAF", R R R},                      /* overlong, three bytes */
    {"\xED\xA0\x80", R R R},                      /* a UTF-16 surrogate */
    {"\xF4\x90\x80\x80", R R R R},                /* above U+10FFFF */
    {"\xE2\x82", R R},                            /* truncated at the end */
    {"\xE2\x82x\xE2\x82\xAC", R R "x\xE2\x82\xAC"}, /* truncated, then valid again */
    {"\x80\x80", R R},                            /* stray continuation bytes */
};

static ek_value decode_ok(const char *json)
{
    ek_value v = ek_null();
    ek_err err = {0};
    int rc = ek_json_decode(json, strlen(json), 0, &v, &err);
    if (rc) fprintf(stderr, "\n  %s: %s\n", json, err.msg);
    CU_ASSERT_EQUAL(rc, 0);
    return v;
}

static void test_invalid_bytes_become_replacement(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = ek_asprintf("{\"s\":\"%s\"}", cases[i].in);
        ek_value v = decode_ok(json);
        const ek_value *s = ek_object_get(&v, "s");
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL_FATAL(s->type, EK_T_STRING);
        if (strcmp(ek_str_ptr(s), cases[i].want) != 0) fprintf(stderr, "\n  case %zu differs\n", i);
        CU_ASSERT_EQUAL(ek_str_len(s), strlen(cases[i].want));
        CU_ASSERT_STRING_EQUAL(ek_str_ptr(s), cases[i].want);
        ek_value_unref(&v);
        ek_free(json);
    }
}

static void test_keys_and_nested_strings(void)
{
    ek_value v = decode_ok("{\"k\xFF\":[\"x\xC3\"],\"ok\":{\"n\":\"\xC3\xA9\"}}");
    CU_ASSERT_PTR_NULL(ek_object_get(&v, "k\xFF"));
    const ek_value *arr = ek_object_get(&v, "k" R);
    CU_ASSERT_PTR_NOT_NULL_FATAL(arr);
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(ek_array_get(arr, 0)), "x" R);
    char *out = ek_json_encode_str(&v, 0);
    CU_ASSERT_STRING_EQUAL(out, "{\"k" R "\":[\"x" R "\"],\"ok\":{\"n\":\"\xC3\xA9\"}}");
    ek_free(out);
    ek_value_unref(&v);
}

void ek_register_tests(void)
{
    static const ek_test_case tests[] = {
        {"invalid UTF-8 bytes decode as U+FFFD", test_invalid_bytes_become_replacement},
        {"keys and nested strings are repaired too", test_keys_and_nested_strings},
        {NULL, NULL},
    };
    ek_add_suite("json_utf8", tests);
}
