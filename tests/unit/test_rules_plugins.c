/* The plugin loader (engine/rules/plugins.h) in process, against the sample and the broken
 * plugins the build puts under $EK_BINARY_DIR: a good plugin's function resolves and runs, a
 * source and a sink work through the connector registry, and a wrong ABI version, a missing
 * entry symbol, a name clash or the wrong kind are refused with the file named, nothing kept. */
#include "connectors/connector.h"
#include "engine/mem.h"
#include "engine/rules/plugins.h"
#include "test_util.h"

#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *so(const char *rel)
{
    const char *dir = getenv("EK_BINARY_DIR");
    return ek_asprintf("%s/%s", dir ? dir : "build", rel);
}

/* A private copy of a build plugin (delete removes the file it was loaded from). */
static char *copy_of(const char *rel, const char *name)
{
    char *src = so(rel), *dst = ek_asprintf("/tmp/ek-plug-%d-%s", (int)getpid(), name);
    char *cmd = ek_asprintf("cp %s %s", src, dst);
    CU_ASSERT_EQUAL(system(cmd), 0);
    ek_free(cmd);
    ek_free(src);
    return dst;
}

static void test_function_plugin(void)
{
    char *path = copy_of("plugins/functions/echo.so", "echo.so");
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_plugins_load_file(path, EK_PLUGIN_FUNCTION, "echo", &err), 0);
    const ek_func_def *d = ek_plugins_resolve("ECHO", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    ek_value arg = ek_string("hi"), out = ek_null();
    ek_func_ctx ctx = {.rule_id = ""};
    CU_ASSERT_EQUAL(d->exec(&ctx, &arg, 1, &out, &err), 0);
    CU_ASSERT_EQUAL(out.type, EK_T_STRING);
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(&out), "hi");
    ek_value_unref(&arg);
    ek_value_unref(&out);
    /* A second load of the same plugin is a name clash. */
    CU_ASSERT_EQUAL(ek_plugins_load_file(path, -1, NULL, &err), EK_EEXIST);
    ek_value udfs;
    ek_plugins_udfs(&udfs);
    CU_ASSERT_EQUAL(ek_array_len(&udfs), 1);
    ek_value_unref(&udfs);
    /* Deleted: gone from the resolver at once, file removed; installing it again brings it back. */
    ek_app app = {0};
    CU_ASSERT_EQUAL(ek_plugins_delete(&app, EK_PLUGIN_FUNCTION, "nope", &err), EK_ENOTFOUND);
    CU_ASSERT_EQUAL(ek_plugins_delete(&app, EK_PLUGIN_FUNCTION, "echo", &err), 0);
    CU_ASSERT_PTR_NULL(ek_plugins_resolve("echo", NULL));
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
    ek_free(path);
    path = copy_of("plugins/functions/echo.so", "echo.so");
    CU_ASSERT_EQUAL(ek_plugins_load_file(path, EK_PLUGIN_FUNCTION, "echo", &err), 0);
    CU_ASSERT_PTR_NOT_NULL(ek_plugins_resolve("echo", NULL));
    unlink(path);
    ek_free(path);
}

static void expect_refused(const char *rel, int kind, int code, const char *msg)
{
    char *path = so(rel);
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_plugins_load_file(path, kind, NULL, &err), code);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
    if (!strstr(err.msg, msg)) fprintf(stderr, "got: %s\n", err.msg);
    ek_free(path);
}

static void test_refusals(void)
{
    expect_refused("plugins-test/badabi.so", -1, EK_EINVAL, "ABI version");
    expect_refused("plugins-test/noentry.so", -1, EK_EINVAL, "missing symbol ek_plugin_entry");
    expect_refused("plugins-test/clash.so", -1, EK_EEXIST, "function abs clashes with a built-in function");
    expect_refused("plugins/sinks/file2.so", EK_PLUGIN_FUNCTION, EK_EINVAL, "provides no function");
    expect_refused("no/such/file.so", -1, EK_EINVAL, "cannot load");
    CU_ASSERT_PTR_NULL(ek_plugins_resolve("abs", NULL));
    CU_ASSERT_PTR_NULL(ek_connector_sink("file2"));
}

static void test_sink_plugin(void)
{
    char *path = so("plugins/sinks/file2.so");
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_plugins_load_file(path, EK_PLUGIN_SINK, "file2", &err), 0);
    const ek_sink_ops *ops = ek_connector_sink("file2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
    char *out = ek_asprintf("/tmp/ek-plug-%d-file2.txt", (int)getpid());
    ek_value props = ek_object_new(1);
    ek_object_set(&props, "path", ek_string(out));
    ek_sink_conf conf = {.rule_id = "r", .props = &props};
    void *st = ek_calloc(1, ops->state_size);
    CU_ASSERT_EQUAL_FATAL(ops->open(st, &conf, &err), 0);
    ek_value v = ek_null();
    ek_sink_data d = {.value = &v, .payload = "{\"a\":1}", .len = 7};
    CU_ASSERT_EQUAL(ops->collect(st, &d, &err), 0);
    ops->close(st);
    ek_free(st);
    char buf[64] = {0};
    FILE *f = fopen(out, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof buf, f));
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "{\"a\":1}\n");
    unlink(out);
    ek_free(out);
    ek_value_unref(&props);
    ek_free(path);
}

static pthread_mutex_t got_lock = PTHREAD_MUTEX_INITIALIZER;
static int got;
static char last[128];

static void on_payload(void *ctx, const void *data, size_t len, ek_value meta)
{
    pthread_mutex_lock(&got_lock);
    got++;
    snprintf(last, sizeof last, "%.*s", (int)len, (const char *)data);
    pthread_mutex_unlock(&got_lock);
    ek_value_unref(&meta);
}

static void on_status(void *ctx, int connected, const char *msg) {}

static void test_source_plugin(void)
{
    char *path = so("plugins/sources/random.so");
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_plugins_load_file(path, EK_PLUGIN_SOURCE, "random", &err), 0);
    const ek_source_ops *ops = ek_connector_source("random");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
    ek_value props = ek_object_new(2), pattern = ek_object_new(1);
    ek_object_set(&pattern, "count", ek_int(5));
    ek_object_set(&props, "pattern", pattern);
    ek_object_set(&props, "interval", ek_int(5));
    ek_source_conf conf = {.stream = "s", .datasource = "s", .props = &props};
    ek_ingest ing = {.payload = on_payload, .status = on_status};
    void *st = ek_calloc(1, ops->state_size);
    CU_ASSERT_EQUAL_FATAL(ops->open(st, &conf, &ing, &err), 0);
    for (int i = 0; i < 400; i++) {
        pthread_mutex_lock(&got_lock);
        int n = got;
        pthread_mutex_unlock(&got_lock);
        if (n >= 3) break;
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    ops->close(st);
    ek_free(st);
    CU_ASSERT_TRUE(got >= 3);
    CU_ASSERT_EQUAL(strncmp(last, "{\"count\":", 9), 0);
    int c = atoi(last + 9);
    CU_ASSERT_TRUE(c >= 0 && c < 5);
    ek_value_unref(&props);
    ek_free(path);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"a function plugin resolves, runs, is deleted and reloaded", test_function_plugin},
        {"wrong ABI, missing symbol, clash and wrong kind are refused", test_refusals},
        {"a sink plugin registers and writes", test_sink_plugin},
        {"a source plugin registers and emits", test_source_plugin},
        {NULL, NULL},
    };
    ek_add_suite("rules_plugins", cases);
}
