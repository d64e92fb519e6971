/* Unit tests for the kuiper CLI's output formatting: JSON laid out as Go's json.Indent does it,
 * `describe stream` text rebuilt from the stream JSON (both the v2 string types and the older
 * numeric ones), its -json form with eKuiper's quirks, name lists, error messages and the reply
 * templates. Cases are tables of input and expected text. */
#include "cli/cli_int.h"
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <string.h>

static ek_value parse(const char *json)
{
    ek_value v = ek_null();
    CU_ASSERT_EQUAL_FATAL(ek_json_decode(json, strlen(json), 0, &v, NULL), 0);
    return v;
}

static void test_pretty_json(void)
{
    static const struct {
        const char *in, *indent, *out;
    } cases[] = {
        {"[]", "  ", "[]"},
        {"{}", "  ", "{}"},
        {"[\"a\",\"b\"]", "  ", "[\n  \"a\",\n  \"b\"\n]"},
        {"{\"id\":\"rule1\",\"status\":\"running\",\"tags\":[],\"meta\":{}}", "  ",
         "{\n  \"id\": \"rule1\",\n  \"status\": \"running\",\n  \"tags\": [],\n  \"meta\": {}\n}"},
        {"{\"sources\":[\"source_demo\"],\"edges\":{\"source_demo\":[\"op_2_project\"]}}", "  ",
         "{\n  \"sources\": [\n    \"source_demo\"\n  ],\n  \"edges\": {\n    \"source_demo\": [\n"
         "      \"op_2_project\"\n    ]\n  }\n}"},
        {"{\"a\":1,\"b\":2.5,\"c\":null,\"d\":true}", "\t", "{\n\t\"a\": 1,\n\t\"b\": 2.5,\n\t\"c\": null,\n\t\"d\": true\n}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ek_value v = parse(cases[i].in);
        ek_buf out = EK_BUF_INIT;
        cli__json_pretty(&v, cases[i].indent, &out);
        CU_ASSERT_STRING_EQUAL(out.data, cases[i].out);
        ek_buf_free(&out);
        ek_value_unref(&v);
    }
    ek_buf out = EK_BUF_INIT;
    cli__pretty_text("Rule r1 was started", &out);
    CU_ASSERT_STRING_EQUAL(out.data, "Rule r1 was started");
    ek_buf_free(&out);
}

static const char *const dashes = "--------------------------------------------------------------------------------";

static void test_describe_text(void)
{
    static const struct {
        const char *json, *fields, *options;
    } cases[] = {
        /* eKuiper v2: types as strings, options under their JSON tags. */
        {"{\"Name\":\"my_stream\",\"StreamFields\":[{\"FieldType\":\"bigint\",\"Name\":\"id\"},"
         "{\"FieldType\":\"string\",\"Name\":\"name\"},{\"FieldType\":\"float\",\"Name\":\"score\"}],"
         "\"Options\":{\"datasource\":\"topic/temperature\",\"key\":\"id\",\"format\":\"json\"},\"StreamType\":0}",
         "id\tbigint\nname\tstring\nscore\tfloat\n", "DATASOURCE: topic/temperature\nFORMAT: json\nKEY: id\n"},
        /* Older servers: numeric types, upper-case option names, booleans and sizes. */
        {"{\"Name\":\"demo\",\"StreamFields\":[{\"Name\":\"temperature\",\"FieldType\":{\"Type\":2}},"
         "{\"Name\":\"ts\",\"FieldType\":{\"Type\":1}}],\"Options\":{\"DATASOURCE\":\"demo\",\"FORMAT\":\"JSON\","
         "\"SHARED\":true,\"STRICT_VALIDATION\":false,\"RETAIN_SIZE\":3,\"TIMESTAMP_FORMAT\":\"\"}}",
         "temperature\tfloat\nts\tbigint\n", "DATASOURCE: demo\nFORMAT: JSON\nRETAIN_SIZE: 3\nSHARED: true\n"},
        /* Nested types and defaults; a schemaless stream has no fields. */
        {"{\"StreamFields\":[{\"FieldType\":\"bigint\",\"Name\":\"USERID\",\"DefaultClause\":\"22\"},"
         "{\"FieldType\":{\"Type\":\"array\",\"ElementType\":\"string\"},\"Name\":\"NICKNAMES\"},"
         "{\"FieldType\":{\"Type\":\"struct\",\"Fields\":[{\"FieldType\":\"string\",\"Name\":\"STREET\"},"
         "{\"FieldType\":\"bigint\",\"Name\":\"NUMBER\"}]},\"Name\":\"ADDRESS\"}],"
         "\"Options\":{\"confKey\":\"demo_conf\",\"type\":\"mqtt\",\"timestampFormat\":\"YYYY\"}}",
         "USERID\tbigint\tDEFAULT\t22\nNICKNAMES\tarray(string)\nADDRESS\tstruct(STREET string, NUMBER bigint)\n",
         "CONF_KEY: demo_conf\nTIMESTAMP_FORMAT: YYYY\nTYPE: mqtt\n"},
        {"{\"Name\":\"sl\",\"StreamFields\":null,\"Options\":{\"datasource\":\"sl\",\"format\":\"json\"}}", "",
         "DATASOURCE: sl\nFORMAT: json\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ek_value v = parse(cases[i].json);
        ek_buf out = EK_BUF_INIT, want = EK_BUF_INIT;
        cli__describe_text(&v, &out);
        ek_buf_printf(&want, "Fields\n%s\n%s\n%s", dashes, cases[i].fields, cases[i].options);
        CU_ASSERT_STRING_EQUAL(out.data, want.data);
        ek_buf_free(&out);
        ek_buf_free(&want);
        ek_value_unref(&v);
    }
}

static void test_describe_to_json(void)
{
    ek_buf text = EK_BUF_INIT, out = EK_BUF_INIT;
    ek_buf_printf(&text, "Fields\n%s\nUSERID\tbigint\tDEFAULT\t22\nNICK\tarray(string)\n"
                         "ADDR\tstruct(STREET string, NUMBER bigint)\n\nKEY: USERID\nDATASOURCE: users/all\n"
                         "FORMAT: JSON\nEXTRA: a b\n", dashes);
    cli__describe_to_json(text.data, &out);
    CU_ASSERT_STRING_EQUAL(out.data,
                           "{\n\t\"Fields\": [\n"
                           "\t\t{\n\t\t\t\"Name\": \"USERID\",\n\t\t\t\"Type\": \"bigint\",\n\t\t\t\"DefaultClause\": \"22\"\n\t\t},\n"
                           "\t\t{\n\t\t\t\"Name\": \"NICK\",\n\t\t\t\"Type\": \"array(string)\"\n\t\t},\n"
                           "\t\t{\n\t\t\t\"Name\": \"ADDR\",\n\t\t\t\"Type\": \"struct(STREET string, NUMBER bigint)\"\n\t\t}\n"
                           "\t],\n\t\"Options\": {\n"
                           "\t\t\"DATASOURCE:\": \"users/all\",\n\t\t\"EXTRA:\": \"ab\",\n"
                           "\t\t\"FORMAT:\": \"JSON\",\n\t\t\"KEY:\": \"USERID\"\n\t}\n}");
    ek_buf_reset(&text);
    ek_buf_reset(&out);
    ek_buf_printf(&text, "Fields\n%s\n\nDATASOURCE: sl\n", dashes);
    cli__describe_to_json(text.data, &out);
    CU_ASSERT_STRING_EQUAL(out.data, "{\n\t\"Fields\": null,\n\t\"Options\": {\n\t\t\"DATASOURCE:\": \"sl\"\n\t}\n}");
    ek_buf_free(&text);
    ek_buf_free(&out);
}

static void test_name_lines(void)
{
    ek_buf out = EK_BUF_INIT;
    CU_ASSERT_TRUE(cli__name_lines("[\"demo\",\"demo2\"]", "none", &out));
    CU_ASSERT_STRING_EQUAL(out.data, "demo\ndemo2");
    ek_buf_reset(&out);
    CU_ASSERT_TRUE(cli__name_lines("[]", "No stream definitions are found.", &out));
    CU_ASSERT_STRING_EQUAL(out.data, "No stream definitions are found.");
    ek_buf_reset(&out);
    CU_ASSERT_FALSE(cli__name_lines("{\"a\":1}", "none", &out));
    CU_ASSERT_FALSE(cli__name_lines("not json", "none", &out));
    ek_buf_free(&out);
}

static void test_error_messages(void)
{
    static const struct {
        long status;
        const char *body, *msg;
    } cases[] = {
        {404, "{\"error\":1002,\"message\":\"stream demo is not found\"}", "stream demo is not found"},
        {400, "{\"error\":2001,\"message\":\"line 1, column 8: expected STREAM\\n\"}", "line 1, column 8: expected STREAM"},
        {422, "  invalid rule  \n", "invalid rule"},
        {500, "", "HTTP 500"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_resp r = {.status = cases[i].status};
        ek_buf_puts(&r.body, cases[i].body);
        char *m = cli__error_message(&r);
        CU_ASSERT_STRING_EQUAL(m, cases[i].msg);
        ek_free(m);
        cli__resp_free(&r);
    }
}

static void test_templates_and_prefixes(void)
{
    ek_buf out = EK_BUF_INIT;
    cli__subst(&out, "Rule $n was created successfully, please use 'bin/kuiper getstatus rule $n' command to get rule "
                     "status.", "rule1", NULL);
    CU_ASSERT_STRING_EQUAL(out.data, "Rule rule1 was created successfully, please use 'bin/kuiper getstatus rule "
                                     "rule1' command to get rule status.");
    ek_buf_reset(&out);
    cli__subst(&out, "Create rule $n error : $m.", "r", "Missing rule actions.");
    CU_ASSERT_STRING_EQUAL(out.data, "Create rule r error : Missing rule actions..");
    ek_buf_free(&out);

    /* The prefix is not doubled when the server already says it. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ek_cli c = {.out = f};
    cli_cmd cmd = {.fail = "Stream command error: $m"};
    cli_resp r = {.status = 400};
    ek_buf_puts(&r.body, "{\"error\":3000,\"message\":\"Stream command error: Create stream fails: exists.\"}");
    CU_ASSERT_EQUAL(cli__print_fail(&c, &cmd, &r, NULL), EK_CLI_FAIL);
    ek_buf_reset(&r.body);
    ek_buf_puts(&r.body, "{\"error\":1002,\"message\":\"stream nope is not found\"}");
    cli__print_fail(&c, &cmd, &r, NULL);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(text, "Stream command error: Create stream fails: exists.\n"
                                 "Stream command error: stream nope is not found\n");
    free(text);
    cli__resp_free(&r);

    ek_buf path = EK_BUF_INIT;
    cli__build_path(&path, "/rules/$n/status", "a b/c");
    CU_ASSERT_STRING_EQUAL(path.data, "/rules/a%20b%2Fc/status");
    ek_buf_free(&path);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"JSON indented as Go does", test_pretty_json},
        {"describe stream text", test_describe_text},
        {"describe stream -json", test_describe_to_json},
        {"name lists", test_name_lines},
        {"error messages from replies", test_error_messages},
        {"reply templates and prefixes", test_templates_and_prefixes},
        {NULL, NULL},
    };
    ek_add_suite("cli_format", cases);
}
