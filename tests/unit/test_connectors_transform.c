/* Unit tests for the sink transform (connectors/sink_transform.h): a table of {properties, rule
 * result, expected payloads} for sendSingle, omitIfEmpty, dataTemplate, dataField, fields,
 * excludeFields, json and delimited formats; batching by size and by linger time; compression
 * round trips; and properties refused at rule creation with the property named. */
#include "connectors/sink_transform.h"
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <string.h>

typedef struct got {
    int n;
    char *p[16];
} got;

static int collect(void *arg, const ek_sink_data *d)
{
    got *g = arg;
    if (g->n < 16) g->p[g->n++] = ek_strndup(d->payload, d->len);
    return 0;
}

static void got_free(got *g)
{
    for (int i = 0; i < g->n; i++) ek_free(g->p[i]);
    g->n = 0;
}

static ek_value json(const char *s)
{
    ek_value v;
    CU_ASSERT_FATAL(ek_json_decode(s, strlen(s), 0, &v, NULL) == 0);
    return v;
}

typedef struct {
    const char *props, *result;
    const char *want[4];
} tcase;

static const tcase cases[] = {
    {"{}", "[{\"b\":1,\"a\":2}]", {"[{\"a\":2,\"b\":1}]"}},
    {"{}", "[]", {"[]"}},
    {"{\"omitIfEmpty\":true}", "[]", {NULL}},
    {"{\"sendSingle\":true}", "[{\"a\":1},{\"a\":2}]", {"{\"a\":1}", "{\"a\":2}"}},
    {"{\"sendSingle\":\"true\",\"omitIfEmpty\":true}", "[{},{\"a\":2}]", {"{\"a\":2}"}},
    {"{\"fields\":[\"a\",\"c\"]}", "[{\"a\":1,\"b\":2}]", {"[{\"a\":1,\"c\":null}]"}},
    {"{\"excludeFields\":[\"b\"],\"sendSingle\":true}", "[{\"a\":1,\"b\":2}]", {"{\"a\":1}"}},
    {"{\"dataField\":\"d\",\"sendSingle\":true}", "[{\"d\":{\"x\":1},\"e\":2}]", {"{\"x\":1}"}},
    {"{\"dataField\":\"d\"}", "[{\"d\":[1,2]}]", {"[1,2]"}},
    {"{\"sendSingle\":true,\"dataTemplate\":\"{\\\"t\\\":{{.t}}}\"}", "[{\"t\":20.5}]", {"{\"t\":20.5}"}},
    {"{\"dataTemplate\":\"{{len .}} rows\"}", "[{\"t\":1},{\"t\":2}]", {"2 rows"}},
    {"{\"sendSingle\":true,\"dataTemplate\":\"{\\\"a\\\":1,\\\"b\\\":2}\",\"fields\":[\"b\"]}", "[{}]",
     {"{\"b\":2}"}},
    {"{\"format\":\"delimited\",\"sendSingle\":true}", "[{\"b\":\"x\",\"a\":1.5}]", {"1.5,x"}},
    {"{\"format\":\"delimited\",\"delimiter\":\"|\",\"hasHeader\":true}", "[{\"b\":1,\"a\":2},{\"b\":3,\"a\":4}]",
     {"a|b\n2|1\n4|3"}},
    {"{\"format\":\"delimited\",\"fields\":[\"b\",\"a\"],\"sendSingle\":true}", "[{\"a\":1,\"b\":2,\"c\":3}]",
     {"2,1"}},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ek_value props = json(cases[i].props), result = json(cases[i].result);
        ek_sink_transform *t = NULL;
        ek_err err = {0};
        int rc = ek_sink_transform_new(&props, &t, &err);
        if (rc) fprintf(stderr, "\n%s: %s\n", cases[i].props, err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        got g = {0};
        CU_ASSERT_EQUAL(ek_sink_transform_apply(t, &result, NULL, 0, collect, &g, &err), 0);
        int want_n = 0;
        while (want_n < 4 && cases[i].want[want_n]) want_n++;
        if (g.n != want_n) fprintf(stderr, "\ncase %zu: %d payloads, want %d\n", i, g.n, want_n);
        CU_ASSERT_EQUAL(g.n, want_n);
        for (int k = 0; k < g.n && k < want_n; k++) {
            if (strcmp(g.p[k], cases[i].want[k])) fprintf(stderr, "\ncase %zu: got [%s] want [%s]\n", i, g.p[k], cases[i].want[k]);
            CU_ASSERT_STRING_EQUAL(g.p[k], cases[i].want[k]);
        }
        got_free(&g);
        ek_sink_transform_free(t);
        ek_value_unref(&props);
        ek_value_unref(&result);
    }
}

static void test_batching(void)
{
    ek_value props = json("{\"batchSize\":3,\"lingerInterval\":\"100ms\"}");
    ek_sink_transform *t = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_sink_transform_new(&props, &t, NULL), 0);
    got g = {0};
    ek_value r = json("[{\"i\":1},{\"i\":2}]");
    CU_ASSERT_EQUAL(ek_sink_transform_apply(t, &r, NULL, 1000, collect, &g, NULL), 0);
    CU_ASSERT_EQUAL(g.n, 0);
    CU_ASSERT_EQUAL(ek_sink_transform_deadline(t), 1100);
    ek_value r2 = json("[{\"i\":3},{\"i\":4}]");
    CU_ASSERT_EQUAL(ek_sink_transform_apply(t, &r2, NULL, 1010, collect, &g, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(g.n, 1);
    CU_ASSERT_STRING_EQUAL(g.p[0], "[{\"i\":1},{\"i\":2},{\"i\":3}]");
    CU_ASSERT_EQUAL(ek_sink_transform_flush(t, 1050, false, collect, &g, NULL), 0);
    CU_ASSERT_EQUAL(g.n, 1); /* the linger time has not passed */
    CU_ASSERT_EQUAL(ek_sink_transform_flush(t, 1200, false, collect, &g, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(g.n, 2);
    CU_ASSERT_STRING_EQUAL(g.p[1], "[{\"i\":4}]");
    CU_ASSERT_EQUAL(ek_sink_transform_deadline(t), -1);
    got_free(&g);
    ek_value_unref(&r);
    ek_value_unref(&r2);
    ek_value_unref(&props);
    ek_sink_transform_free(t);
}

static void test_compression(void)
{
    static const char *const algs[] = {"gzip", "zlib", "flate", "zstd"};
    for (size_t i = 0; i < 4; i++) {
        char pj[64];
        snprintf(pj, sizeof pj, "{\"compression\":\"%s\",\"sendSingle\":true}", algs[i]);
        ek_value props = json(pj), r = json("[{\"a\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]");
        ek_sink_transform *t = NULL;
        CU_ASSERT_EQUAL_FATAL(ek_sink_transform_new(&props, &t, NULL), 0);
        ek_buf out = EK_BUF_INIT, back = EK_BUF_INIT;
        CU_ASSERT_EQUAL(ek_sink_transform_encode(t, ek_array_get(&r, 0), &out, NULL), 0);
        CU_ASSERT_EQUAL(ek_decompress(algs[i], out.data, out.len, &back, NULL), 0);
        CU_ASSERT_STRING_EQUAL(back.data ? back.data : "", "{\"a\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}");
        CU_ASSERT_NOT_EQUAL(ek_decompress(algs[i], "garbage!", 8, &back, NULL), 0);
        ek_buf_free(&out);
        ek_buf_free(&back);
        ek_value_unref(&props);
        ek_value_unref(&r);
        ek_sink_transform_free(t);
    }
}

static void test_rejections(void)
{
    static const struct {
        const char *props, *part;
    } bad[] = {
        {"{\"dataTemplate\":\"{{nosuch .}}\"}", "dataTemplate"},
        {"{\"format\":\"protobuf\"}", "format"},
        {"{\"fields\":[\"a\"],\"excludeFields\":[\"b\"]}", "excludeFields"},
        {"{\"compression\":\"lz4\"}", "lz4"},
        {"{\"lingerInterval\":\"later\"}", "lingerInterval"},
        {"{\"batchSize\":\"many\"}", "batchSize"},
        {"{\"sendSingle\":\"maybe\"}", "sendSingle"},
        {"{\"encryption\":\"aes\"}", "encryption"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ek_value props = json(bad[i].props);
        ek_sink_transform *t = NULL;
        ek_err err = {0};
        CU_ASSERT_EQUAL(ek_sink_transform_new(&props, &t, &err), EK_EINVAL);
        if (!strstr(err.msg, bad[i].part)) fprintf(stderr, "\n%s: [%s]\n", bad[i].props, err.msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].part));
        ek_value_unref(&props);
    }
}

static void test_template_error_at_runtime(void)
{
    ek_value props = json("{\"sendSingle\":true,\"dataTemplate\":\"{{.a.b}}\"}"), r = json("[{\"a\":1}]");
    ek_sink_transform *t = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_sink_transform_new(&props, &t, NULL), 0);
    got g = {0};
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_sink_transform_apply(t, &r, NULL, 0, collect, &g, &err), EK_EEXEC);
    CU_ASSERT_EQUAL(g.n, 0);
    ek_value_unref(&props);
    ek_value_unref(&r);
    ek_sink_transform_free(t);
}

void ek_register_tests(void)
{
    static const ek_test_case tests[] = {
        {"properties table", test_table},
        {"batchSize and lingerInterval", test_batching},
        {"compression round trips", test_compression},
        {"bad properties refused", test_rejections},
        {"template error on data", test_template_error_at_runtime},
        {NULL, NULL},
    };
    ek_add_suite("connectors_transform", tests);
}
