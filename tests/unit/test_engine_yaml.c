/* Unit tests for ek_yaml_emit and ek_yaml_parse (engine/yaml_emit.c, engine/yaml.c), used by
 * GET /v2/data/export and POST /v2/data/import: what is written reads back as the same tree, with
 * strings that look like other types ("true", "12", "null", "") kept strings, and a broken
 * document is refused with its line and column. */
#include "engine/codec_json.h"
#include "engine/config.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <string.h>

static void roundtrip(const char *json)
{
    ek_value v, back;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_json_decode(json, strlen(json), 0, &v, &err), 0);
    ek_buf out = EK_BUF_INIT;
    ek_yaml_emit(&v, &out);
    int rc = ek_yaml_parse(out.data ? out.data : "", out.len, "test", &back, &err);
    if (rc) fprintf(stderr, "\n  %s\n  %.*s\n", err.msg, (int)out.len, out.data);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    bool same = ek_value_equal(&v, &back);
    if (!same) {
        char *got = ek_json_encode_str(&back, 0);
        fprintf(stderr, "\n  yaml:\n%.*s  got  %s\n  want %s\n", (int)out.len, out.data, got, json);
        ek_free(got);
    }
    CU_ASSERT(same);
    ek_buf_free(&out);
    ek_value_unref(&v);
    ek_value_unref(&back);
}

static void test_roundtrip(void)
{
    roundtrip("{\"streams\":{\"demo\":{\"sql\":\"CREATE STREAM demo () WITH (DATASOURCE=\\\"users\\\", FORMAT=\\\"JSON\\\")\"}}}");
    roundtrip("{\"s\":\"true\",\"n\":\"12\",\"z\":\"null\",\"e\":\"\",\"f\":\"1.5\",\"t\":\"~\",\"c\":\"a: b\",\"h\":\"#x\"}");
    roundtrip("{\"b\":true,\"i\":-42,\"d\":2.5,\"big\":9007199254740993}");
    roundtrip("{\"rules\":{\"r1\":{\"id\":\"r1\",\"actions\":[{\"log\":{}},{\"mqtt\":{\"topic\":\"a/#\",\"qos\":1}}],"
              "\"tags\":[]}}}");
    roundtrip("{\"multi\":\"line one\\nline two\\n\",\"uni\":\"温度 ° \\u00e9\",\"tab\":\"a\\tb\"}");
    roundtrip("{}");
}

/* null compares unequal to itself (SQL semantics), so it is checked by type. */
static void test_null(void)
{
    ek_value v = ek_object_new(1), back;
    ek_object_set(&v, "nil", ek_null());
    ek_buf out = EK_BUF_INIT;
    ek_yaml_emit(&v, &out);
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_yaml_parse(out.data, out.len, "test", &back, &err), 0);
    CU_ASSERT_EQUAL(ek_object_get(&back, "nil")->type, EK_T_NULL);
    ek_buf_free(&out);
    ek_value_unref(&v);
    ek_value_unref(&back);
}

static void test_parse_errors(void)
{
    ek_value v;
    ek_err err = {0};
    const char *bad = "streams:\n  demo: [unclosed\n";
    CU_ASSERT_NOT_EQUAL(ek_yaml_parse(bad, strlen(bad), "the YAML content", &v, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "the YAML content:"));
    const char *seq = "- a\n- b\n";
    CU_ASSERT_NOT_EQUAL(ek_yaml_parse(seq, strlen(seq), "x", &v, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "mapping"));
    CU_ASSERT_EQUAL(ek_yaml_parse("", 0, "x", &v, &err), 0);
    CU_ASSERT_EQUAL(v.type, EK_T_OBJECT);
    ek_value_unref(&v);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"emit then parse gives the same tree", test_roundtrip},
        {"null", test_null},
        {"broken documents", test_parse_errors},
        {NULL, NULL},
    };
    ek_add_suite("engine_yaml", cases);
}
