/* Tests of the file sink and source on a temporary directory: lines, json and csv files written
 * and read back, templated paths, rolling by count with eKuiper's name patterns, gzip files that
 * gunzip reads as one stream, and the file source feeding json, lines and csv records. */
#include "connectors/connector.h"
#include "connectors/sink_transform.h"
#include "engine/codec_json.h"
#include "tests/unit/test_connectors_util.h"
#include "tests/unit/test_util.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

static char dir[64];

static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/ek-file-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
}

static char *slurp(const char *path)
{
    ek_buf b = EK_BUF_INIT;
    if (ek_buf_read_file(&b, path, 0) != 0) {
        ek_buf_free(&b);
        return NULL;
    }
    return ek_buf_detach(&b);
}

/* Opens a file sink with props, sends each value (its JSON as payload), closes it. */
static void run_sink(const char *props_json, const char *const *values, int n)
{
    tc_sink s;
    ek_err err = {0};
    int rc = tc_sink_open(&s, "file", props_json, &err);
    if (rc) fprintf(stderr, "file sink: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    for (int i = 0; i < n; i++) CU_ASSERT_EQUAL(tc_sink_send_json(&s, values[i], &err), 0);
    tc_sink_close(&s);
}

static int count_files(const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d) closedir(d);
    return n;
}

static void test_lines_json_templated(void)
{
    fresh_dir();
    const char *vals[] = {"{\"id\":\"a\",\"v\":1}", "{\"id\":\"b\",\"v\":2}", "{\"id\":\"a\",\"v\":3}"};
    char props[256], path[128];
    snprintf(props, sizeof props, "{\"path\":\"%s/out-{{.id}}.log\"}", dir);
    run_sink(props, vals, 3);
    snprintf(path, sizeof path, "%s/out-a.log", dir);
    char *text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_STRING_EQUAL(text, "{\"id\":\"a\",\"v\":1}\n{\"id\":\"a\",\"v\":3}\n");
    ek_free(text);
    snprintf(props, sizeof props, "{\"path\":\"%s/all.json\",\"fileType\":\"json\"}", dir);
    run_sink(props, vals, 2);
    snprintf(path, sizeof path, "%s/all.json", dir);
    text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_STRING_EQUAL(text, "[{\"id\":\"a\",\"v\":1},{\"id\":\"b\",\"v\":2}]");
    ek_free(text);
}

static void test_csv_and_rolling(void)
{
    fresh_dir();
    const char *vals[] = {"2,x", "3,y", "4,z"};
    /* values for the header: the sink reads the keys from the message value */
    char pj[256];
    snprintf(pj, sizeof pj, "{\"path\":\"%s/t.csv\",\"fileType\":\"csv\",\"hasHeader\":true,\"rollingCount\":2,"
                            "\"rollingNamePattern\":\"prefix\"}", dir);
    tc_sink s;
    CU_ASSERT_EQUAL_FATAL(tc_sink_open(&s, "file", pj, NULL), 0);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(tc_sink_collect(&s, "{\"b\":\"x\",\"a\":2}", vals[i], strlen(vals[i]), NULL), 0);
        tc_sleep_ms(2); /* distinct millisecond names */
    }
    tc_sink_close(&s);
    CU_ASSERT_EQUAL(count_files(""), 2 + 2); /* two rolled files plus . and .. */
    DIR *d = opendir(dir);
    int checked = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        CU_ASSERT_PTR_NOT_NULL(strstr(e->d_name, "-t.csv")); /* <ts>-t.csv */
        char path[400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = slurp(path);
        CU_ASSERT(text && strncmp(text, "a,b\n", 4) == 0);
        checked++;
        ek_free(text);
    }
    if (d) closedir(d);
    CU_ASSERT_EQUAL(checked, 2);
}

static void test_rolling_interval(void)
{
    fresh_dir();
    char pj[256];
    snprintf(pj, sizeof pj, "{\"path\":\"%s/r.log\",\"rollingInterval\":\"50ms\"}", dir);
    tc_sink s;
    CU_ASSERT_EQUAL_FATAL(tc_sink_open(&s, "file", pj, NULL), 0);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(tc_sink_collect(&s, "{}", "x", 1, NULL), 0);
        if (i == 1) tc_sleep_ms(80);
    }
    tc_sink_close(&s);
    CU_ASSERT_EQUAL(count_files("r-"), 2); /* r-<ts>.log: two lines, then one after the interval */
}

static void test_gzip_file(void)
{
    fresh_dir();
    char props[256], path[128], cmd[300];
    snprintf(props, sizeof props, "{\"path\":\"%s/z.log\",\"compression\":\"gzip\"}", dir);
    /* Payloads as the transform makes them with compression: compressed per message. */
    tc_sink s;
    CU_ASSERT_EQUAL_FATAL(tc_sink_open(&s, "file", props, NULL), 0);
    for (int i = 0; i < 2; i++) {
        ek_buf z = EK_BUF_INIT;
        ek_compress("gzip", i ? "second" : "first", i ? 6 : 5, &z, NULL);
        CU_ASSERT_EQUAL(tc_sink_collect(&s, "{}", z.data, z.len, NULL), 0);
        ek_buf_free(&z);
    }
    tc_sink_close(&s);
    snprintf(path, sizeof path, "%s/z.log.gz", dir);
    snprintf(cmd, sizeof cmd, "gzip -dc %s > %s/plain.txt", path, dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    snprintf(path, sizeof path, "%s/plain.txt", dir);
    char *text = slurp(path);
    CU_ASSERT(text && strcmp(text, "first\nsecond\n") == 0);
    ek_free(text);
}

static void read_source(const char *file, const char *content, const char *props_json, tc_collector *col, int want)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    fputs(content, f);
    fclose(f);
    const ek_source_ops *ops = ek_connector_source("file");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
    void *st = ek_calloc(1, ops->state_size);
    /* props_json names the directory as "path":"DIR" */
    ek_buf pj = EK_BUF_INIT;
    const char *at = strstr(props_json, "DIR");
    ek_buf_append(&pj, props_json, at ? (size_t)(at - props_json) : strlen(props_json));
    if (at) ek_buf_printf(&pj, "%s%s", dir, at + 3);
    ek_value props = tc_json(pj.data);
    ek_buf_free(&pj);
    ek_ingest in;
    tc_collector_init(col, &in);
    ek_app app = {0};
    ek_source_conf conf = {.app = &app, .stream = "f", .datasource = file, .props = &props};
    ek_err err = {0};
    int rc = ops->open(st, &conf, &in, &err);
    if (rc) fprintf(stderr, "file source: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_TRUE(tc_wait(col, tc_has_n, want, 3000));
    ops->close(st);
    ek_free(st);
    ek_value_unref(&props);
}

static void test_file_source(void)
{
    fresh_dir();
    tc_collector col;
    read_source("a.json", "[{\"id\":1},{\"id\":2}]", "{\"path\":\"DIR\"}", &col, 2);
    CU_ASSERT_EQUAL(col.n, 2);
    if (col.n == 2) CU_ASSERT_STRING_EQUAL(col.payload[1], "{\"id\":2}");
    tc_collector_free(&col);
    read_source("b.txt", "{\"x\":1}\n\n{\"x\":2}\n", "{\"path\":\"DIR\",\"fileType\":\"lines\"}", &col, 2);
    CU_ASSERT_EQUAL(col.n, 2);
    tc_collector_free(&col);
    read_source("c.csv", "# comment\nid,name,t\n1,a,2.5\n2,b,x\n",
                "{\"path\":\"DIR\",\"fileType\":\"csv\",\"hasHeader\":true,\"ignoreStartLines\":1}", &col, 2);
    CU_ASSERT_EQUAL(col.n, 2);
    if (col.n == 2) {
        CU_ASSERT_STRING_EQUAL(col.payload[0], "{\"id\":1,\"name\":\"a\",\"t\":2.5}");
        CU_ASSERT_STRING_EQUAL(col.payload[1], "{\"id\":2,\"name\":\"b\",\"t\":\"x\"}");
    }
    tc_collector_free(&col);
}

static void test_bad_props(void)
{
    static const char *const bad[] = {"{}", "{\"path\":\"/tmp/x\",\"fileType\":\"xml\"}",
                                      "{\"path\":\"/tmp/x\",\"rollingNamePattern\":\"middle\"}",
                                      "{\"path\":\"/tmp/x\",\"compression\":\"lz4\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tc_sink s;
        ek_err err = {0};
        CU_ASSERT_EQUAL(tc_sink_open(&s, "file", bad[i], &err), EK_EINVAL);
        CU_ASSERT(err.msg[0] != '\0');
        tc_sink_close(&s);
    }
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"lines and json files, templated path", test_lines_json_templated},
        {"csv with header and rolling by count", test_csv_and_rolling},
        {"rolling by interval (suffix names)", test_rolling_interval},
        {"gzip file", test_gzip_file},
        {"file source json, lines, csv", test_file_source},
        {"bad properties", test_bad_props},
        {NULL, NULL},
    };
    ek_add_suite("connectors_file", cases);
}
