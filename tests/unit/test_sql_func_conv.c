/* Tests for the conversion functions (sql/func_conv.c): cast() to every documented type, base64,
 * chr/hex/trunc, and the four compression methods round-tripping. */
#include "tests/unit/test_sql_func_util.h"

static void test_cast(void)
{
    fcheck("cast", "[1.9, \"bigint\"]", "1");
    fcheck("cast", "[\"12\", \"bigint\"]", "12");
    fcheck("cast", "[\" 1.5\", \"BIGINT\"]", "1");
    fcheck("cast", "[true, \"bigint\"]", "1");
    fcheck("cast", "[\"2.5\", \"float\"]", "2.5");
    fcheck("cast", "[12, \"string\"]", "\"12\"");
    fcheck("cast", "[1.5, \"string\"]", "\"1.5\"");
    fcheck("cast", "[false, \"string\"]", "\"false\"");
    fcheck("cast", "[{\"a\": 1}, \"string\"]", "\"{\\\"a\\\":1}\"");
    fcheck("cast", "[\"true\", \"boolean\"]", "true");
    fcheck("cast", "[\"F\", \"boolean\"]", "false");
    fcheck("cast", "[0, \"boolean\"]", "false");
    fcheck("cast", "[2.5, \"boolean\"]", "true");
    fcheck("cast", "[1541152486013, \"datetime\"]", "\"2018-11-02T09:54:46.013Z\"");
    fcheck("cast", "[\"2019-01-01T08:00:00+08:00\", \"datetime\"]", "\"2019-01-01T00:00:00Z\"");
    fcheck("cast", "[\"2019-01-01 10:11:12.5\", \"datetime\"]", "\"2019-01-01T10:11:12.5Z\"");
    fcheck("cast", "[\"2019/01/02\", \"datetime\"]", "\"2019-01-02T00:00:00Z\"");
    fcheck("cast", "[\"2019-1-2 3:4:5\", \"datetime\"]", "\"2019-01-02T03:04:05Z\"");
    fcheck("cast", "[\"2019-01-02 15:04\", \"datetime\"]", "\"2019-01-02T15:04:00Z\"");
    fcheck("cast", "[\"2019-06\", \"datetime\"]", "\"2019-06-01T00:00:00Z\"");
    fcheck("cast", "[\"2019\", \"datetime\"]", "\"2019-01-01T00:00:00Z\"");
    fcheck("cast", "[\"2006-01-02T15:04:05.000-07:00\", \"datetime\"]", "\"2006-01-02T22:04:05Z\"");
    fcheck_err("cast", "[\"2019-13-01\", \"datetime\"]", "datetime");
    fcheck("cast", "[\"aGVsbG8=\", \"bytea\"]", "\"aGVsbG8=\"");
    fcheck("cast", "[\"not base64!\", \"bytea\"]", "\"bm90IGJhc2U2NCE=\"");
    fcheck("cast", "[null, \"bigint\"]", "null");

    ek_value out, args[2] = {ek_int(3), ek_string("float")};
    ek_err err = {0};
    CU_ASSERT_EQUAL(fcallv("cast", NULL, args, 2, &out, &err), 0);
    CU_ASSERT_EQUAL(out.type, EK_T_FLOAT);
    ek_value_unref(&args[1]);
    args[0] = ek_datetime(1541152486013LL * 1000000);
    args[1] = ek_string("string");
    CU_ASSERT_EQUAL(fcallv("cast", NULL, args, 2, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(&out), "2018-11-02T09:54:46.013Z");
    ek_value_unref(&out);
    ek_value_unref(&args[1]);

    fcheck_err("cast", "[\"abc\", \"bigint\"]", "cannot convert");
    fcheck_err("cast", "[\"maybe\", \"boolean\"]", "boolean");
    fcheck_err("cast", "[1, \"decimal\"]", "one of bigint");
    fcheck_err("cast", "[[1], \"float\"]", "array");
    fcheck_err("cast", "[\"yesterday\", \"datetime\"]", "datetime");

    /* The bind-time check refuses an unknown type name given as a constant. */
    ek_func_arg_info info[2] = {{false, ek_null(), EK_T_NULL}, {true, ek_string("decimal"), EK_T_STRING}};
    CU_ASSERT_EQUAL(ek_func_lookup("cast")->check(info, 2, &err), EK_EPLAN);
    ek_value_unref(&info[1].value);
}

static void test_base64_and_chars(void)
{
    fcheck("encode", "[\"hello\", \"base64\"]", "\"aGVsbG8=\"");
    fcheck("decode", "[\"aGVsbG8=\", \"base64\"]", "\"aGVsbG8=\"");  /* bytes print as base64 */
    fcheck("encode", "[\"\", \"base64\"]", "\"\"");
    fcheck("encode", "[null, \"base64\"]", "null");
    fcheck_err("encode", "[\"a\", \"hex\"]", "only base64");
    fcheck_err("decode", "[\"a\", \"base64\"]", "fail to decode");
    fcheck_err("encode", "[1, \"base64\"]", "string");
    ek_value out;
    ek_err err = {0};
    CU_ASSERT_EQUAL(fcall("decode", NULL, "[\"aGk=\", \"base64\"]", &out, &err), 0);
    CU_ASSERT_EQUAL(out.type, EK_T_BYTES);
    CU_ASSERT_EQUAL(ek_str_len(&out), 2);
    CU_ASSERT_EQUAL(memcmp(ek_str_ptr(&out), "hi", 2), 0);
    ek_value_unref(&out);

    ek_func_arg_info info[2] = {{false, ek_null(), EK_T_NULL}, {true, ek_string("hex"), EK_T_STRING}};
    CU_ASSERT_EQUAL(ek_func_lookup("encode")->check(info, 2, &err), EK_EPLAN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "encode: argument 2 must be one of \"base64\""));
    CU_ASSERT_EQUAL(ek_func_lookup("compress")->check(info, 2, &err), EK_EPLAN);
    ek_value_unref(&info[1].value);
    info[1].value = ek_string("GZIP");
    CU_ASSERT_EQUAL(ek_func_lookup("decompress")->check(info, 2, &err), 0);
    ek_value_unref(&info[1].value);

    fcheck("chr", "[65]", "\"A\"");
    fcheck("chr", "[\"a\"]", "\"a\"");
    fcheck("chr", "[28201]", "\"\u6e29\"");
    fcheck_err("chr", "[\"ab\"]", "length");
    fcheck_err("chr", "[-1]", "valid character");
    fcheck("hex2dec", "[\"0x10\"]", "16");
    fcheck("hex2dec", "[\"10\"]", "16");
    fcheck("hex2dec", "[\"ff\"]", "255");
    fcheck_err("hex2dec", "[\"0xzz\"]", "invalid hexadecimal");
    fcheck_err("hex2dec", "[16]", "hex string");
    fcheck("dec2hex", "[16]", "\"0x10\"");
    fcheck("dec2hex", "[255]", "\"0xff\"");
    fcheck("trunc", "[3.14159, 2]", "3.14");
    fcheck("trunc", "[-3.999, 0]", "-3");
    fcheck("trunc", "[1.5, -1]", "1");
    fcheck("trunc", "[2.675, 40]", "2.675");
    fcheck("trunc", "[null, 1]", "null");
    fcheck_err("trunc", "[1.5, \"a\"]", "integer");
}

static void test_compression(void)
{
    static const char *const methods[] = {"zlib", "gzip", "flate", "zstd"};
    const char *text = "the same text, the same text, the same text, the same text";
    for (int m = 0; m < 4; m++) {
        ek_value args[2] = {ek_string(text), ek_string(methods[m])}, packed, plain;
        ek_err err = {0};
        CU_ASSERT_EQUAL_FATAL(fcallv("compress", NULL, args, 2, &packed, &err), 0);
        CU_ASSERT_EQUAL(packed.type, EK_T_BYTES);
        CU_ASSERT(ek_str_len(&packed) < strlen(text));
        ek_value back[2] = {packed, args[1]};
        CU_ASSERT_EQUAL_FATAL(fcallv("decompress", NULL, back, 2, &plain, &err), 0);
        CU_ASSERT_EQUAL(ek_str_len(&plain), strlen(text));
        CU_ASSERT_EQUAL(memcmp(ek_str_ptr(&plain), text, strlen(text)), 0);
        /* Data made by one method is refused by another. */
        ek_value wrong[2] = {packed, ek_string(methods[(m + 1) % 4])};
        ek_value junk;
        CU_ASSERT(fcallv("decompress", NULL, wrong, 2, &junk, &err) < 0);
        ek_value_unref(&wrong[1]);
        ek_value_unref(&plain);
        ek_value_unref(&packed);
        ek_value_unref(&args[0]);
        ek_value_unref(&args[1]);
    }
    fcheck("compress", "[null, \"zlib\"]", "null");
    fcheck_err("compress", "[\"a\", \"lz4\"]", "unsupported compression");
    fcheck_err("decompress", "[\"not compressed\", \"gzip\"]", "not valid gzip");
    fcheck_err("compress", "[12, \"zlib\"]", "string");
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"cast", test_cast},
        {"base64, chr, hex, trunc", test_base64_and_chars},
        {"compression round trips", test_compression},
        {NULL, NULL},
    };
    ek_add_suite("sql_func_conv", cases);
}
