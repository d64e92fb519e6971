/* Unit tests for configuration: the shipped etc/ loads with eKuiper's defaults, environment
 * overrides follow eKuiper's KUIPER__SECTION__KEY convention for every file, and a bad file or
 * value is refused with the file, the line and the key named. */
#include "engine/config.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/ek-config-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    char conn[128];
    snprintf(conn, sizeof conn, "%s/connections", dir);
    mkdir(conn, 0755);
}

static void test_shipped_etc_loads(void)
{
    char etc[512];
    snprintf(etc, sizeof etc, "%s/etc", getenv("EK_SOURCE_DIR") ? getenv("EK_SOURCE_DIR") : ".");
    char *env[] = {NULL};
    ek_config *c = NULL;
    ek_err err = {0};
    int rc = ek_config_load(etc, env, &c, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(ek_config_int(c, "basic.restPort"), 9081);
    CU_ASSERT_STRING_EQUAL(ek_config_str(c, "basic.restIp"), "0.0.0.0");
    CU_ASSERT_TRUE(ek_config_bool(c, "basic.fileLog"));
    CU_ASSERT_EQUAL(ek_config_duration_ms(c, "rule.checkpointInterval"), 300000);
    CU_ASSERT_EQUAL(ek_config_int(c, "sink.memoryCacheThreshold"), 1024);
    CU_ASSERT_EQUAL(ek_config_int(c, "source.httpServerPort"), 10081);
    const ek_value *server = ek_config_lookup(ek_config_file(c, "mqtt_source"), "default.server");
    CU_ASSERT_PTR_NOT_NULL_FATAL(server);
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(server), "tcp://127.0.0.1:1883");
    ek_config_free(c);
}

static void test_defaults_when_absent(void)
{
    fresh_dir();
    write_file("kuiper.yaml", "basic:\n  consoleLog: true\n");
    char *env[] = {NULL};
    ek_config *c = NULL;
    CU_ASSERT_EQUAL_FATAL(ek_config_load(dir, env, &c, NULL), 0);
    CU_ASSERT_EQUAL(ek_config_int(c, "basic.restPort"), 9081);
    CU_ASSERT_TRUE(ek_config_bool(c, "basic.consoleLog"));
    CU_ASSERT_STRING_EQUAL(ek_config_str(c, "basic.logLevel"), "info");
    CU_ASSERT_EQUAL(ek_config_duration_ms(c, "rule.lateTolerance"), 1000);
    ek_config_free(c);
}

static void test_env_overrides(void)
{
    fresh_dir();
    write_file("kuiper.yaml", "basic:\n  restPort: 9081\n  consoleLog: false\n");
    write_file("mqtt_source.yaml", "default:\n  server: tcp://127.0.0.1:1883\n  qos: 1\n");
    write_file("connections/connection.yaml", "mqtt:\n  conf1:\n    server: tcp://a:1883\n");
    char *env[] = {"KUIPER__BASIC__RESTPORT=9090",
                   "kuiper__basic__consolelog=true",
                   "KUIPER__RULE__CHECKPOINTINTERVAL=10s",
                   "MQTT_SOURCE__DEFAULT__SERVER=tcp://broker:1883",
                   "MQTT_SOURCE__DEMO__QOS=2",
                   "CONNECTION__MQTT__CONF1__SERVER=tcp://b:1883",
                   "UNRELATED__X=1",
                   "PATH=/usr/bin",
                   NULL};
    ek_config *c = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_config_load(dir, env, &c, &err), 0);
    CU_ASSERT_EQUAL(ek_config_int(c, "basic.restPort"), 9090);
    CU_ASSERT_TRUE(ek_config_bool(c, "basic.consoleLog"));
    CU_ASSERT_EQUAL(ek_config_duration_ms(c, "rule.checkpointInterval"), 10000);
    /* An override keeps eKuiper's spelling of a known key, so REST shows restPort, not restport. */
    const ek_value *basic = ek_config_get(c, "basic");
    CU_ASSERT_PTR_NOT_NULL(ek_object_get(basic, "restPort"));
    const ek_value *ms = ek_config_file(c, "mqtt_source");
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(ek_config_lookup(ms, "default.server")), "tcp://broker:1883");
    CU_ASSERT_EQUAL(ek_config_lookup(ms, "demo.qos")->i, 2);
    CU_ASSERT_EQUAL(ek_config_lookup(ms, "default.qos")->i, 1);
    const ek_value *conn = ek_config_file(c, "connection");
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(ek_config_lookup(conn, "mqtt.conf1.server")), "tcp://b:1883");
    ek_config_free(c);
}

static void test_bad_value_names_line_and_key(void)
{
    fresh_dir();
    write_file("kuiper.yaml", "basic:\n  logLevel: info\n  restPort: abc\n");
    char *env[] = {NULL};
    ek_config *c = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_config_load(dir, env, &c, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "kuiper.yaml:3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "basic.restPort"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expected an integer"));

    write_file("kuiper.yaml", "rule:\n  checkpointInterval: soon\n");
    CU_ASSERT_EQUAL(ek_config_load(dir, env, &c, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "kuiper.yaml:2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "duration"));

    write_file("kuiper.yaml", "basic:\n  restPort: 9081\n");
    char *bad_env[] = {"KUIPER__BASIC__FILELOG=maybe", NULL};
    CU_ASSERT_EQUAL(ek_config_load(dir, bad_env, &c, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "KUIPER__BASIC__FILELOG"));
}

static void test_bad_yaml_names_line(void)
{
    fresh_dir();
    write_file("kuiper.yaml", "basic:\n  restPort: 9081\n   bad: [1, 2\n");
    char *env[] = {NULL};
    ek_config *c = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_config_load(dir, env, &c, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "kuiper.yaml:"));
    /* A failure deep inside a mapping or a list frees what was built (ASan's leak check). */
    write_file("kuiper.yaml", "basic:\n  restTls:\n    certfile: 'unterminated\n");
    CU_ASSERT_EQUAL(ek_config_load(dir, env, &c, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "kuiper.yaml:"));
    write_file("kuiper.yaml", "basic:\n  list:\n    - a: 1\n    - b: [1, 2\n");
    CU_ASSERT_EQUAL(ek_config_load(dir, env, &c, &err), EK_ECONF);
    write_file("kuiper.yaml", "- a\n- b\n");
    CU_ASSERT_EQUAL(ek_config_load(dir, env, &c, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "mapping"));
    /* A missing kuiper.yaml is an error; missing optional files are not. */
    char empty[80];
    snprintf(empty, sizeof empty, "%s/none", dir);
    CU_ASSERT_EQUAL(ek_config_load(empty, env, &c, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "kuiper.yaml"));
}

static void test_yaml_types(void)
{
    fresh_dir();
    write_file("t.yaml", "a: 1\nb: 1.5\nc: true\nd: \"1\"\ne: ~\nf: hello world\ng: [1, two]\nh:\n  - x: 1\n");
    char path[128];
    snprintf(path, sizeof path, "%s/t.yaml", dir);
    ek_value v;
    CU_ASSERT_EQUAL_FATAL(ek_yaml_load(path, &v, NULL), 0);
    CU_ASSERT_EQUAL(ek_object_get(&v, "a")->type, EK_T_INT);
    CU_ASSERT_EQUAL(ek_object_get(&v, "b")->type, EK_T_FLOAT);
    CU_ASSERT_EQUAL(ek_object_get(&v, "c")->type, EK_T_BOOL);
    CU_ASSERT_EQUAL(ek_object_get(&v, "d")->type, EK_T_STRING);
    CU_ASSERT_EQUAL(ek_object_get(&v, "e")->type, EK_T_NULL);
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(ek_object_get(&v, "f")), "hello world");
    CU_ASSERT_EQUAL(ek_array_len(ek_object_get(&v, "g")), 2);
    CU_ASSERT_EQUAL(ek_config_lookup(&v, "h")->type, EK_T_ARRAY);
    ek_value_unref(&v);
}

static void test_durations(void)
{
    int64_t ms;
    CU_ASSERT_TRUE(ek_parse_duration_ms("10s", &ms) && ms == 10000);
    CU_ASSERT_TRUE(ek_parse_duration_ms("250ms", &ms) && ms == 250);
    CU_ASSERT_TRUE(ek_parse_duration_ms("3m", &ms) && ms == 180000);
    CU_ASSERT_TRUE(ek_parse_duration_ms("1h", &ms) && ms == 3600000);
    CU_ASSERT_TRUE(ek_parse_duration_ms("1.5s", &ms) && ms == 1500);
    CU_ASSERT_TRUE(ek_parse_duration_ms("500", &ms) && ms == 500);
    CU_ASSERT_FALSE(ek_parse_duration_ms("soon", &ms));
    CU_ASSERT_FALSE(ek_parse_duration_ms("10x", &ms));
    CU_ASSERT_FALSE(ek_parse_duration_ms("-1s", &ms));
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"shipped etc/ loads with eKuiper defaults", test_shipped_etc_loads},
        {"defaults when keys are absent", test_defaults_when_absent},
        {"environment overrides every file", test_env_overrides},
        {"bad value names file, line and key", test_bad_value_names_line_and_key},
        {"bad YAML names the line", test_bad_yaml_names_line},
        {"YAML scalars are typed", test_yaml_types},
        {"durations", test_durations},
        {NULL, NULL},
    };
    ek_add_suite("config", cases);
}
