/* Unit tests for the template engine (connectors/template.h): a table of {template, JSON data,
 * expected output} covering every supported construct as Go's text/template renders it, and a
 * table of templates that must be refused at compile time with a message naming the problem. */
#include "connectors/template.h"
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <string.h>

typedef struct {
    const char *tpl, *data, *want;
} render_case;

static const render_case renders[] = {
    {"plain text", "{}", "plain text"},
    {"{{.a}}", "{\"a\":1}", "1"},
    {"{{.a}}", "{\"a\":1.5}", "1.5"},
    {"{{.a}}", "{\"a\":3.0}", "3"},
    {"{{.a}}", "{\"a\":1000000.0}", "1e+06"},
    {"{{.a}}", "{\"a\":123456.0}", "123456"},
    {"{{.a}}", "{\"a\":0.0001}", "0.0001"},
    {"{{.a}}", "{\"a\":0.00001}", "1e-05"},
    {"{{.a}}", "{\"a\":\"x\"}", "x"},
    {"{{.a}}", "{\"a\":true}", "true"},
    {"{{.a}}", "{\"a\":null}", "<no value>"},
    {"{{.missing}}", "{\"a\":1}", "<no value>"},
    {"{{.a.b}}", "{\"a\":{\"b\":\"deep\"}}", "deep"},
    {"{{.a}}", "{\"a\":{\"y\":2,\"x\":1}}", "map[x:1 y:2]"},
    {"{{.a}}", "{\"a\":[1,\"s\",null]}", "[1 s <nil>]"},
    {"{{.}}", "[1,2]", "[1 2]"},
    {"{{json .}}", "{\"b\":1,\"a\":[1,2]}", "{\"a\":[1,2],\"b\":1}"},
    {"{{json .a}}", "{\"a\":\"q\"}", "\"q\""},
    {"{{.a | json}}", "{\"a\":{\"z\":1}}", "{\"z\":1}"},
    {"{{if .a}}yes{{end}}", "{\"a\":true}", "yes"},
    {"{{if .a}}yes{{else}}no{{end}}", "{\"a\":0}", "no"},
    {"{{if gt .t 30}}hot{{else if gt .t 20}}warm{{else}}cold{{end}}", "{\"t\":25}", "warm"},
    {"{{if gt .t 30}}hot{{else if gt .t 20}}warm{{else}}cold{{end}}", "{\"t\":35.5}", "hot"},
    {"{{if gt .t 30}}hot{{else if gt .t 20}}warm{{else}}cold{{end}}", "{\"t\":1}", "cold"},
    {"{{if eq .s \"on\"}}1{{end}}", "{\"s\":\"on\"}", "1"},
    {"{{if eq .n 1 2 3}}in{{end}}", "{\"n\":3}", "in"},
    {"{{if ne .n 1}}ne{{end}}", "{\"n\":2}", "ne"},
    {"{{if and (lt .a 5) (ge .b 2)}}ok{{end}}", "{\"a\":1,\"b\":2}", "ok"},
    {"{{if or .x .y}}ok{{end}}", "{\"x\":false,\"y\":\"s\"}", "ok"},
    {"{{if not .x}}ok{{end}}", "{\"x\":\"\"}", "ok"},
    {"{{if le 1 1.0}}ok{{end}}", "{}", "ok"},
    {"{{if lt \"a\" \"b\"}}ok{{end}}", "{}", "ok"},
    {"{{range .}}{{.a}},{{end}}", "[{\"a\":1},{\"a\":2}]", "1,2,"},
    {"{{range $i, $e := .}}{{$i}}={{$e.a}};{{end}}", "[{\"a\":\"x\"},{\"a\":\"y\"}]", "0=x;1=y;"},
    {"{{range $k, $v := .}}{{$k}}:{{$v}} {{end}}", "{\"b\":2,\"a\":1}", "a:1 b:2 "},
    {"{{range .l}}x{{else}}empty{{end}}", "{\"l\":[]}", "empty"},
    {"{{range $v := .l}}{{$v}}{{end}}", "{\"l\":[7,8]}", "78"},
    {"{{with .a}}{{.b}}{{end}}", "{\"a\":{\"b\":5}}", "5"},
    {"{{with .a}}{{.b}}{{else}}none{{end}}", "{\"a\":null}", "none"},
    {"{{index . \"a\"}}", "{\"a\":\"v\"}", "v"},
    {"{{index .l 1}}", "{\"l\":[\"p\",\"q\"]}", "q"},
    {"{{index . 0 \"n\"}}", "[{\"n\":9}]", "9"},
    {"{{len .l}}", "{\"l\":[1,2,3]}", "3"},
    {"{{printf \"%d-%s\" .n .s}}", "{\"n\":4,\"s\":\"x\"}", "4-x"},
    {"{{printf \"%.2f\" .f}}", "{\"f\":3.14159}", "3.14"},
    {"{{printf \"%5d|%-3s|\" 42 \"a\"}}", "{}", "   42|a  |"},
    {"{{printf \"%v %t %q %x %%\" .a true \"s\" 255}}", "{\"a\":[1]}", "[1] true \"s\" ff %"},
    {"{{printf \"%d\" .f}}", "{\"f\":2.5}", "%!d(float64=2.5)"},
    {"{{printf \"%d %d\" 1}}", "{}", "1 %!d(MISSING)"},
    {"{{printf \"%d\" 1 2}}", "{}", "1%!(EXTRA int64=2)"},
    {"{{.a | printf \"<%v>\"}}", "{\"a\":1}", "<1>"},
    {"{{$x := .a}}{{$x}}{{$x = 5}}{{$x}}", "{\"a\":1}", "15"},
    {"{{$}}", "{\"a\":1}", "map[a:1]"},
    {"{{range .l}}{{$.k}}{{end}}", "{\"k\":\"K\",\"l\":[1,2]}", "KK"},
    {"a {{- \" b \" -}} c", "{}", "a b c"},
    {"x  {{- /* comment */ -}}  y", "{}", "xy"},
    {"{{/* only a comment */}}z", "{}", "z"},
    {"{{print 1 2 \"a\" \"b\"}}", "{}", "1 2ab"},
    {"{{println 1 \"a\"}}", "{}", "1 a\n"},
    {"{{upper .s}} {{lower .s}} [{{trim .p}}]", "{\"s\":\"Ab\",\"p\":\" x \"}", "AB ab [x]"},
    {"{{base64 .s}}", "{\"s\":\"hello\"}", "aGVsbG8="},
    {"{{`raw {{x}}`}}", "{}", "raw {{x}}"},
    {"{\"t\":{{.t}},\"id\":\"{{.id}}\"}", "{\"t\":20.5,\"id\":\"d1\"}", "{\"t\":20.5,\"id\":\"d1\"}"},
    {"{{(index .l 0).n}}", "{\"l\":[{\"n\":\"first\"}]}", "first"},
    {"{{-1}}", "{}", "-1"},
    {"{{not nil}}", "{}", "true"},
    {"{{default \"none\" .x}}|{{default \"none\" .y}}", "{\"y\":\"set\"}", "none|set"},
    {"{{quote .s}} {{.s | toString | quote}}", "{\"s\":\"a\\\"b\"}", "\"a\\\"b\" \"a\\\"b\""},
    {"{{toJson .}}", "{\"b\":[1]}", "{\"b\":[1]}"},
    {"{{add 1 2}} {{sub 5 2.5}} {{mul 2 3}} {{div 7 2}} {{div 7.0 2}}", "{}", "3 2.5 6 3 3.5"},
    {"{{if contains \"lo\" .s}}y{{end}} {{replace \"a\" \"o\" .s}}", "{\"s\":\"hallo\"}", "y hollo"},
};

static void test_render_table(void)
{
    for (size_t i = 0; i < sizeof renders / sizeof renders[0]; i++) {
        const render_case *c = &renders[i];
        ek_err err = {0};
        ek_template *t = NULL;
        int rc = ek_template_compile(c->tpl, &t, &err);
        if (rc) fprintf(stderr, "\ncompile %s: %s\n", c->tpl, err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        ek_value data;
        CU_ASSERT_EQUAL_FATAL(ek_json_decode(c->data, strlen(c->data), 0, &data, NULL), 0);
        ek_buf out = EK_BUF_INIT;
        rc = ek_template_render(t, &data, &out, &err);
        if (rc) fprintf(stderr, "\nrender %s: %s\n", c->tpl, err.msg);
        CU_ASSERT_EQUAL(rc, 0);
        const char *got = out.data ? out.data : "";
        if (strcmp(got, c->want) != 0) fprintf(stderr, "\n%s: got [%s], want [%s]\n", c->tpl, got, c->want);
        CU_ASSERT_STRING_EQUAL(got, c->want);
        ek_buf_free(&out);
        ek_value_unref(&data);
        ek_template_free(t);
    }
}

typedef struct {
    const char *tpl, *msg_part;
} reject_case;

static const reject_case rejects[] = {
    {"{{foo .a}}", "function \"foo\" not defined"},
    {"{{define \"x\"}}a{{end}}", "{{define}} is not supported"},
    {"{{template \"x\"}}", "{{template}} is not supported"},
    {"{{block \"x\" .}}a{{end}}", "{{block}} is not supported"},
    {"{{if .a}}x", "without {{end}}"},
    {"{{end}}", "unexpected {{end}}"},
    {"{{.a", "unclosed action"},
    {"{{$x}}", "undefined variable \"$x\""},
    {"{{$y = 1}}", "undefined variable \"$y\""},
    {"{{\"abc}}", "unterminated quoted string"},
    {"{{.a | }}", "missing value for command"},
    {"{{(.a}}", "unclosed left paren"},
    {"{{.a ; }}", "unexpected \";\""},
    {"a\n{{sprig_fn 1}}", "2:3: function \"sprig_fn\" not defined"},
    {"{{range .}}{{else}}{{else}}{{end}}", "expected end"},
};

static void test_rejections(void)
{
    for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
        ek_err err = {0};
        ek_template *t = NULL;
        int rc = ek_template_compile(rejects[i].tpl, &t, &err);
        CU_ASSERT_EQUAL(rc, EK_EINVAL);
        CU_ASSERT_PTR_NULL(t);
        if (!strstr(err.msg, rejects[i].msg_part))
            fprintf(stderr, "\n%s: message [%s] lacks [%s]\n", rejects[i].tpl, err.msg, rejects[i].msg_part);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, rejects[i].msg_part));
        ek_template_free(t);
    }
}

/* A sink with no row to show (an empty batch) renders its topic or url over an empty object. */
static void test_render_no_data(void)
{
    ek_template *t = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_template_compile("t/{{.a}}/{{len .}}", &t, NULL), 0);
    ek_buf out = EK_BUF_INIT;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_template_render(t, NULL, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(out.data ? out.data : "", "t/<no value>/0");
    ek_buf_free(&out);
    ek_template_free(t);
}

static void test_runtime_errors(void)
{
    static const struct {
        const char *tpl, *data, *msg_part;
    } cases[] = {
        {"{{.a.b}}", "{\"a\":1}", "can't evaluate field b"},
        {"{{index .l 5}}", "{\"l\":[1]}", "index out of range"},
        {"{{lt .a \"x\"}}", "{\"a\":1}", "incompatible types"},
        {"{{range .a}}{{end}}", "{\"a\":5}", "range can't iterate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ek_template *t = NULL;
        CU_ASSERT_EQUAL_FATAL(ek_template_compile(cases[i].tpl, &t, NULL), 0);
        ek_value data;
        CU_ASSERT_EQUAL_FATAL(ek_json_decode(cases[i].data, strlen(cases[i].data), 0, &data, NULL), 0);
        ek_buf out = EK_BUF_INIT;
        ek_err err = {0};
        CU_ASSERT_EQUAL(ek_template_render(t, &data, &out, &err), EK_EEXEC);
        if (!strstr(err.msg, cases[i].msg_part)) fprintf(stderr, "\n%s: [%s]\n", cases[i].tpl, err.msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].msg_part));
        ek_buf_free(&out);
        ek_value_unref(&data);
        ek_template_free(t);
    }
}

/* Random token soups (fixed seed): every one compiles or is refused, and renders or fails, without
 * crashing or leaking (run under ASan). */
static void test_random_templates(void)
{
    static const char *const toks[] = {
        "{{", "}}", "{{-", " -}}", ".", ".a", ".b.c", "$", "$x", ":=", "=", "|", "(", ")", " ", "if", "else",
        "end", "range", "with", "json", "printf", "\"%v\"", "index", "len", "eq", "lt", "and", "or", "not",
        "1", "2.5", "-3", "\"s\"", "`r`", "true", "nil", "x", "/*", "*/", ",", "$i", "$e", "default", "add",
    };
    const size_t ntoks = sizeof toks / sizeof toks[0];
    ek_value data;
    const char *json = "{\"a\":[1,{\"c\":2}],\"b\":{\"c\":\"z\"},\"n\":null}";
    CU_ASSERT_EQUAL_FATAL(ek_json_decode(json, strlen(json), 0, &data, NULL), 0);
    unsigned seed = 12345;
    int compiled = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char text[512] = "";
        int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 14;
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            strncat(text, toks[(seed >> 16) % ntoks], sizeof text - strlen(text) - 1);
        }
        ek_template *t = NULL;
        ek_err err = {0};
        if (ek_template_compile(text, &t, &err) == 0) {
            compiled++;
            ek_buf out = EK_BUF_INIT;
            ek_template_render(t, &data, &out, &err);
            ek_buf_free(&out);
            ek_template_free(t);
        } else {
            CU_ASSERT(err.msg[0] != '\0');
        }
    }
    CU_ASSERT(compiled > 0);
    ek_value_unref(&data);
}

/* Found by fuzz_template_render: 1,200 nested parens overflowed the stack in the parser. Nesting
 * is bounded (100 levels) with a message; the bound itself still compiles and renders. */
static void test_deep_nesting(void)
{
    static const struct {
        const char *head, *open, *mid, *close, *tail;
    } kinds[] = {
        {"{{", "(", "1", ")", "}}"},
        {"", "{{if 1}}", "x", "{{end}}", ""},
        {"", "{{with .}}", "x", "{{end}}", ""},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        static const int depths[] = {99, 101, 5000, 100000};
        for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++) {
            ek_buf text = EK_BUF_INIT;
            ek_buf_append(&text, kinds[k].head, strlen(kinds[k].head));
            for (int i = 0; i < depths[d]; i++) ek_buf_append(&text, kinds[k].open, strlen(kinds[k].open));
            ek_buf_append(&text, kinds[k].mid, strlen(kinds[k].mid));
            for (int i = 0; i < depths[d]; i++) ek_buf_append(&text, kinds[k].close, strlen(kinds[k].close));
            ek_buf_append(&text, kinds[k].tail, strlen(kinds[k].tail));
            char *src = ek_buf_detach(&text);
            ek_template *t = NULL;
            ek_err err = {0};
            int rc = ek_template_compile(src, &t, &err);
            if (depths[d] < 100) {
                if (rc) fprintf(stderr, "\n%s x %d: %s\n", kinds[k].open, depths[d], err.msg);
                CU_ASSERT_EQUAL(rc, 0);
                ek_value data = ek_object_new(1); /* not empty: {{with .}} is true */
                ek_object_set(&data, "a", ek_int(1));
                ek_buf out = EK_BUF_INIT;
                CU_ASSERT_EQUAL(ek_template_render(t, &data, &out, &err), 0);
                CU_ASSERT_STRING_EQUAL(out.data ? out.data : "", kinds[k].mid);
                ek_buf_free(&out);
                ek_value_unref(&data);
            } else {
                CU_ASSERT_EQUAL(rc, EK_EINVAL);
                if (!strstr(err.msg, "nested more than 100 deep")) fprintf(stderr, "\n[%s]\n", err.msg);
                CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nested more than 100 deep"));
            }
            ek_template_free(t);
            ek_free(src);
        }
    }
}

static void test_static(void)
{
    CU_ASSERT_TRUE(ek_template_is_static("a/b/c"));
    CU_ASSERT_FALSE(ek_template_is_static("a/{{.id}}/c"));
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"render table", test_render_table},
        {"compile rejections", test_rejections},
        {"render with no data", test_render_no_data},
        {"runtime errors", test_runtime_errors},
        {"static detection", test_static},
        {"random templates", test_random_templates},
        {"deep nesting bounded", test_deep_nesting},
        {NULL, NULL},
    };
    ek_add_suite("connectors_template", cases);
}
