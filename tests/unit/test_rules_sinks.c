/* Rule sinks with the offline cache, through the engine: a sink whose destination is down keeps
 * what it cannot deliver; after the engine restarts, that data is resent as soon as the
 * destination is back, without waiting for the rule's next message; and when the cache is full
 * the rule's status says how many messages were dropped and why.
 * The destination is a test sink type ("gate") whose collect fails with EK_EIO while gate_up is
 * false and records each payload once it is true. */
#include "connectors/connector.h"
#include "tests/unit/rules_fixture.h"

#include <stdatomic.h>

#define DEMO "CREATE STREAM demo () WITH (TYPE=\"memory\", DATASOURCE=\"in/demo\")"
#define GATE_MAX 64

static atomic_int gate_up;
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static char *gate_got[GATE_MAX];
static int gate_n;

static int gate_open(void *st, const ek_sink_conf *conf, ek_err *err) { return 0; }

static int gate_collect(void *st, const ek_sink_data *d, ek_err *err)
{
    if (!atomic_load(&gate_up)) return ek_err_set(err, EK_EIO, "gate is down");
    pthread_mutex_lock(&gate_lock);
    if (gate_n < GATE_MAX) gate_got[gate_n++] = ek_strndup(d->payload, d->len);
    pthread_mutex_unlock(&gate_lock);
    return 0;
}

static void gate_close(void *st) {}

static const ek_sink_ops gate_ops = {
    .type = "gate", .state_size = 8, .open = gate_open, .collect = gate_collect, .close = gate_close,
};

static void gate_reset(bool up)
{
    pthread_mutex_lock(&gate_lock);
    for (int i = 0; i < gate_n; i++) ek_free(gate_got[i]);
    gate_n = 0;
    pthread_mutex_unlock(&gate_lock);
    atomic_store(&gate_up, up);
}

static void gate_register(void)
{
    ek_err err = {0};
    if (!ek_connector_sink("gate")) CU_ASSERT_EQUAL_FATAL(ek_connector_register_sink(&gate_ops, &err), 0);
}

/* A rule from demo to a gate sink with the given extra sink properties (JSON members). */
static int gate_rule(fx *f, const char *id, const char *props)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"id\":\"%s\",\"sql\":\"SELECT a FROM demo\",\"actions\":[{\"gate\":{\"sendSingle\":true%s%s}}]}", id,
             props ? "," : "", props ? props : "");
    ek_err err = {0};
    int rc = ek_rules_rule_create(f->app.rules, json, strlen(json), NULL, &err);
    if (rc) fprintf(stderr, "create: %s\n", err.msg);
    return rc;
}

static void test_cache_resend_after_restart(void)
{
    gate_register();
    gate_reset(false);
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, DEMO);
    CU_ASSERT_EQUAL_FATAL(gate_rule(&f, "rc", "\"enableCache\":true"), 0);
    for (int i = 0; i < 3; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "{\"a\":%d}", i);
        fx_step(&f, f.now + 10, "demo", msg);
    }
    CU_ASSERT_EQUAL(fx_status_int(&f, "rc", "sink_gate_0_0_records_in_total"), 3);
    CU_ASSERT_EQUAL(gate_n, 0);
    fx_restart(&f);  /* the cache goes to disk */
    CU_ASSERT_TRUE_FATAL(ek_rules_rule_running(f.app.rules, "rc"));
    atomic_store(&gate_up, true);
    /* No new message: only the rule's timer can start the resend. The cache paces retries on the
     * monotonic clock (1 s), so give it real time too. */
    for (int i = 0; i < 300 && gate_n < 3; i++) {
        fx_step(&f, f.now + 100, NULL, NULL);
        usleep(10000);
    }
    CU_ASSERT_EQUAL_FATAL(gate_n, 3);
    CU_ASSERT_STRING_EQUAL(gate_got[0], "{\"a\":0}");
    CU_ASSERT_STRING_EQUAL(gate_got[1], "{\"a\":1}");
    CU_ASSERT_STRING_EQUAL(gate_got[2], "{\"a\":2}");
    fx_close(&f, false);
    gate_reset(false);
}

static void test_cache_full_in_metrics(void)
{
    gate_register();
    gate_reset(false);
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, DEMO);
    CU_ASSERT_EQUAL_FATAL(gate_rule(&f, "full", "\"enableCache\":true,\"memoryCacheThreshold\":2,\"maxDiskCache\":1"), 0);
    CU_ASSERT_EQUAL(fx_status_int(&f, "full", "sink_gate_0_0_cache_dropped_total"), 0);
    for (int i = 0; i < 5; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "{\"a\":%d}", i);
        fx_step(&f, f.now + 10, "demo", msg);
    }
    CU_ASSERT_EQUAL(fx_status_int(&f, "full", "sink_gate_0_0_cache_dropped_total"), 2);  /* 5 into 3 places */
    ek_value st;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_rules_rule_status(f.app.rules, "full", &st, &err), 0);
    const ek_value *exc = ek_object_get(&st, "sink_gate_0_0_last_exception");
    CU_ASSERT_TRUE(exc && exc->type == EK_T_STRING && strstr(ek_str_ptr(exc), "cache is full") != NULL);
    ek_value_unref(&st);
    /* A rule without a cache has no such metric. */
    CU_ASSERT_EQUAL_FATAL(gate_rule(&f, "nocache", NULL), 0);
    CU_ASSERT_EQUAL(fx_status_int(&f, "nocache", "sink_gate_0_0_cache_dropped_total"), -1);
    /* The newest three are resent once the destination is back. */
    atomic_store(&gate_up, true);
    for (int i = 0; i < 300 && gate_n < 3; i++) {
        fx_step(&f, f.now + 100, NULL, NULL);
        usleep(10000);
    }
    CU_ASSERT_EQUAL_FATAL(gate_n, 3);
    CU_ASSERT_STRING_EQUAL(gate_got[0], "{\"a\":2}");
    CU_ASSERT_STRING_EQUAL(gate_got[2], "{\"a\":4}");
    fx_close(&f, false);
    gate_reset(false);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"cached data is resent after a restart without new input", test_cache_resend_after_restart},
        {"a full cache's drops show in the sink's metrics", test_cache_full_in_metrics},
        {NULL, NULL},
    };
    ek_add_suite("rules_sinks", cases);
}
