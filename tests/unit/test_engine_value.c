/* Unit tests for ek_value and the JSON codec: what a user sees when a message passes through
 * unchanged (integers stay integers, floats print as eKuiper prints them, unicode is exact,
 * nesting keeps its shape) and what they are told when a payload is not JSON. */
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "engine/row.h"
#include "tests/unit/test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes text, encodes it again, and checks the result equals expect. */
static void roundtrip(const char *text, int dflags, int eflags, const char *expect)
{
    ek_value v;
    ek_err err = {0};
    int rc = ek_json_decode(text, strlen(text), dflags, &v, &err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char *out = ek_json_encode_str(&v, eflags);
    if (strcmp(out, expect) != 0) fprintf(stderr, "\n  got %s\n  want %s\n", out, expect);
    CU_ASSERT_STRING_EQUAL(out, expect);
    ek_free(out);
    ek_value_unref(&v);
}

static void test_integers_stay_integers(void)
{
    roundtrip("{\"a\":1,\"b\":-42,\"c\":9223372036854775807}", 0, 0,
              "{\"a\":1,\"b\":-42,\"c\":9223372036854775807}");
    ek_value v;
    CU_ASSERT_EQUAL(ek_json_decode("12345678901234567", 17, 0, &v, NULL), 0);
    CU_ASSERT_EQUAL(v.type, EK_T_INT);
    CU_ASSERT_EQUAL(v.i, 12345678901234567LL);
    /* Beyond int64 the number is kept as a float. */
    CU_ASSERT_EQUAL(ek_json_decode("92233720368547758070", 20, 0, &v, NULL), 0);
    CU_ASSERT_EQUAL(v.type, EK_T_FLOAT);
}

static void test_floats_print_like_go(void)
{
    roundtrip("[1.5,0.1,1.0,100.25,-3.75,1e21,1e20,0.000001,0.0000001,123456789.125]", 0, 0,
              "[1.5,0.1,1,100.25,-3.75,1e+21,100000000000000000000,0.000001,1e-7,123456789.125]");
    char buf[32];
    ek_json_format_double(3.5, buf);
    CU_ASSERT_STRING_EQUAL(buf, "3.5");
    ek_json_format_double(1.0 / 3.0, buf);
    CU_ASSERT_STRING_EQUAL(buf, "0.3333333333333333");
    ek_json_format_double(NAN, buf);
    CU_ASSERT_STRING_EQUAL(buf, "null");
}

/* The shortest digits by trying every precision from 1 to 17 (what ek_json_format_double did
 * before it tried only 15 to 17), for the comparison below. */
static void shortest_digits(double f, char *digits, int *exp10)
{
    char e[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, f);
        if (strtod(e, NULL) == f) break;
    }
    int nd = 0;
    const char *q = e + (e[0] == '-');
    for (; *q != 'e'; q++)
        if (*q != '.') digits[nd++] = *q;
    digits[nd] = 0;
    *exp10 = atoi(q + 1);
}

static void test_float_digits_are_shortest(void)
{
    /* Random bit patterns and short decimals: the printed number reads back exactly and has the
     * digits of the exhaustive search. */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double f;
        if (i % 2) {
            memcpy(&f, &x, sizeof f);
            if (isnan(f) || isinf(f) || f == 0) continue;
        } else {
            f = (double)(int64_t)(x % 2000000001) / (double)(1 + x % 10000) * ((x >> 40) % 2 ? 1 : -1e-3);
        }
        char got[32], want[24];
        int exp10;
        ek_json_format_double(f, got);
        CU_ASSERT_EQUAL_FATAL(strtod(got, NULL), f);
        shortest_digits(f, want, &exp10);
        char digits[40];
        int nd = 0;
        for (const char *p = got; *p && *p != 'e'; p++)
            if (*p >= '0' && *p <= '9' && (nd || *p != '0')) digits[nd++] = *p;
        while (nd > 1 && digits[nd - 1] == '0' && nd > (int)strlen(want)) nd--; /* 100 -> 1 */
        digits[nd] = 0;
        if (strcmp(digits, want) != 0) fprintf(stderr, "\n  %.17g printed %s, shortest %s\n", f, got, want);
        CU_ASSERT_STRING_EQUAL_FATAL(digits, want);
    }
}

static void test_schemaless_numbers_are_floats(void)
{
    ek_value v;
    CU_ASSERT_EQUAL(ek_json_decode("{\"a\":7}", 7, EK_JSON_FLOAT_NUMBERS, &v, NULL), 0);
    const ek_value *a = ek_object_get(&v, "a");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->type, EK_T_FLOAT);
    CU_ASSERT_DOUBLE_EQUAL(a->f, 7.0, 0);
    ek_value_unref(&v);
    roundtrip("{\"a\":7}", EK_JSON_FLOAT_NUMBERS, 0, "{\"a\":7}");
}

static void test_unicode_exact(void)
{
    roundtrip("{\"name\":\"温度 ☃ \\u00e9 \\ud83d\\ude00\"}", 0, 0, "{\"name\":\"温度 ☃ é 😀\"}");
    roundtrip("\"tab\\tquote\\\"slash\\\\\"", 0, 0, "\"tab\\tquote\\\"slash\\\\\"");
}

static void test_nesting_keeps_shape(void)
{
    const char *t = "{\"a\":{\"b\":[1,{\"c\":[true,false,null]},\"x\"]},\"d\":[]}";
    roundtrip(t, 0, 0, t);
    /* 200 levels decode; 600 are refused with a message. */
    char deep[1300];
    int n = 0;
    for (int i = 0; i < 200; i++) deep[n++] = '[';
    for (int i = 0; i < 200; i++) deep[n++] = ']';
    ek_value v;
    CU_ASSERT_EQUAL(ek_json_decode(deep, (size_t)n, 0, &v, NULL), 0);
    ek_value_unref(&v);
    n = 0;
    for (int i = 0; i < 600; i++) deep[n++] = '[';
    for (int i = 0; i < 600; i++) deep[n++] = ']';
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_json_decode(deep, (size_t)n, 0, &v, &err), EK_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nesting"));
}

static void test_sorted_keys(void)
{
    roundtrip("{\"temperature\":20,\"humidity\":50,\"a\":1}", 0, EK_JSON_SORT_KEYS,
              "{\"a\":1,\"humidity\":50,\"temperature\":20}");
    roundtrip("{\"temperature\":20,\"humidity\":50}", 0, 0, "{\"temperature\":20,\"humidity\":50}");
}

static void test_invalid_json_position(void)
{
    ek_value v;
    ek_err err = {0};
    const char *bad = "{\"a\": 1,\n \"b\": tru}";
    CU_ASSERT_EQUAL(ek_json_decode(bad, strlen(bad), 0, &v, &err), EK_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "line 2"));
    const char *trail = "{\"a\":1} x";
    CU_ASSERT_EQUAL(ek_json_decode(trail, strlen(trail), 0, &v, &err), EK_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "column 9"));
    CU_ASSERT_EQUAL(ek_json_decode("", 0, 0, &v, &err), EK_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "end of input"));
}

static void test_value_semantics(void)
{
    ek_value a = ek_int(1), b = ek_float(1.0), n = ek_null();
    CU_ASSERT_TRUE(ek_value_equal(&a, &b));
    CU_ASSERT_EQUAL(ek_value_hash(&a), ek_value_hash(&b));
    CU_ASSERT_FALSE(ek_value_equal(&n, &n));
    ek_value s1 = ek_string("abc"), s2 = ek_string("abd");
    CU_ASSERT_TRUE(ek_value_compare(&s1, &s2) < 0);
    ek_value obj = ek_object_new(0);
    ek_object_set(&obj, "x", ek_int(1));
    ek_object_set(&obj, "y", ek_value_ref(&s1));
    ek_object_set(&obj, "x", ek_int(2)); /* replace keeps position */
    CU_ASSERT_EQUAL(ek_object_len(&obj), 2);
    CU_ASSERT_STRING_EQUAL(ek_object_key(&obj, 0), "x");
    CU_ASSERT_EQUAL(ek_object_get(&obj, "x")->i, 2);
    CU_ASSERT_PTR_NOT_NULL(ek_object_get_ci(&obj, "Y"));
    /* Sharing then unsharing copies, leaving the shared one intact. */
    ek_value shared = ek_value_ref(&obj);
    ek_value_unshare(&obj);
    CU_ASSERT_PTR_NOT_EQUAL(obj.o, shared.o);
    ek_object_del(&obj, "x");
    CU_ASSERT_EQUAL(ek_object_len(&obj), 1);
    CU_ASSERT_EQUAL(ek_object_len(&shared), 2);
    ek_value_unref(&shared);
    ek_value_unref(&obj);
    ek_value_unref(&s1);
    ek_value_unref(&s2);
}

static void test_row_refcount(void)
{
    ek_value msg;
    CU_ASSERT_EQUAL_FATAL(ek_json_decode("{\"t\":20.5}", 10, 0, &msg, NULL), 0);
    ek_row *r = ek_row_new(msg, ek_null(), 1000, "demo");
    ek_row *r2 = ek_row_ref(r);
    ek_row_unref(r);
    CU_ASSERT_STRING_EQUAL(ek_row_emitter(r2), "demo");
    CU_ASSERT_DOUBLE_EQUAL(ek_row_get(r2, "t")->f, 20.5, 0);
    CU_ASSERT_PTR_NULL(ek_row_get(r2, "missing"));
    ek_row_unref(r2);
}

static void test_datetime_and_bytes_encode(void)
{
    ek_value arr = ek_array_new(2);
    ek_array_push(&arr, ek_datetime(1700000000123000000LL));
    ek_array_push(&arr, ek_bytes("hi!", 3));
    char *out = ek_json_encode_str(&arr, 0);
    CU_ASSERT_STRING_EQUAL(out, "[\"2023-11-14T22:13:20.123Z\",\"aGkh\"]");
    ek_free(out);
    ek_value_unref(&arr);
}

static void test_string_escapes(void)
{
    ek_value o = ek_object_new(2);
    ek_object_set(&o, "k\"\t", ek_string_n("a\"b\\c\n\x01\x1f\0z \xc3\xa9/<", 15));
    ek_object_set(&o, "b", ek_bytes("\xff\x00", 2));
    char *out = ek_json_encode_str(&o, 0);
    CU_ASSERT_STRING_EQUAL(out, "{\"k\\\"\\t\":\"a\\\"b\\\\c\\n\\u0001\\u001f\\u0000z \xc3\xa9/<\",\"b\":\"/wA=\"}");
    ek_value back;
    CU_ASSERT_EQUAL_FATAL(ek_json_decode(out, strlen(out), 0, &back, NULL), 0);
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(ek_object_get(&back, "k\"\t")), "a\"b\\c\n\x01\x1f"); /* cJSON stops at NUL */
    ek_value_unref(&back);
    ek_free(out);
    ek_value_unref(&o);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"integers stay integers", test_integers_stay_integers},
        {"floats print like Go", test_floats_print_like_go},
        {"float digits are the shortest that read back", test_float_digits_are_shortest},
        {"schemaless numbers are floats", test_schemaless_numbers_are_floats},
        {"unicode round-trips exactly", test_unicode_exact},
        {"nesting keeps its shape and is bounded", test_nesting_keeps_shape},
        {"sorted keys as Go maps marshal", test_sorted_keys},
        {"invalid JSON names the position", test_invalid_json_position},
        {"value equality, order and sharing", test_value_semantics},
        {"rows are refcounted", test_row_refcount},
        {"datetime and bytes encode as Go does", test_datetime_and_bytes_encode},
        {"strings escape control characters, quotes and NUL", test_string_escapes},
        {NULL, NULL},
    };
    ek_add_suite("value", cases);
}
