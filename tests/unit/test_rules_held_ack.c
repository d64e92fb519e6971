/* Unit tests for held acknowledgements in the rule runtime (engine/ack.h, docs/reliability.md "No
 * loss on kill -9"): a message handed over with payload_held is acknowledged only once every QoS 1
 * rule has it safe - delivered by its sink, cached on disk, or in a checkpoint - and at once for
 * QoS 0 rules and for rows a filter drops. A test source ("heldsrc") keeps the engine's ek_ingest
 * so a test can hand it messages with an ek_ack of its own; a test sink ("gatesink") blocks in
 * collect until the test opens its gate, or fails with EK_EIO (destination unreachable). */
#include "connectors/connector.h"
#include "engine/ack.h"
#include "tests/unit/rules_fixture.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <time.h>

static ek_ingest held_in;
static atomic_int acked;           /* completions of the test's acks */

static int heldsrc_open(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err)
{
    held_in = *ingest;
    return 0;
}

static void heldsrc_close(void *st) { memset(&held_in, 0, sizeof held_in); }

static const ek_source_ops heldsrc_ops = {.type = "heldsrc", .state_size = 8, .open = heldsrc_open,
                                          .close = heldsrc_close};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open, fail;
    int entered, delivered;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, true, false, 0, 0};

static int gatesink_open(void *st, const ek_sink_conf *conf, ek_err *err) { return 0; }

static int gatesink_collect(void *st, const ek_sink_data *d, ek_err *err)
{
    pthread_mutex_lock(&gate.mu);
    gate.entered++;
    pthread_cond_broadcast(&gate.cv);
    while (!gate.open) pthread_cond_wait(&gate.cv, &gate.mu);
    bool fail = gate.fail;
    if (!fail) gate.delivered++;
    pthread_mutex_unlock(&gate.mu);
    return fail ? ek_err_set(err, EK_EIO, "gatesink: unreachable") : 0;
}

static const ek_sink_ops gatesink_ops = {.type = "gatesink", .state_size = 8, .open = gatesink_open,
                                         .collect = gatesink_collect};

static void set_gate(bool open, bool fail)
{
    pthread_mutex_lock(&gate.mu);
    gate.open = open;
    gate.fail = fail;
    gate.entered = gate.delivered = 0;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
}

static void wait_entered(int n)
{
    pthread_mutex_lock(&gate.mu);
    while (gate.entered < n) pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);
}

static void count_ack(void *arg) { atomic_fetch_add(&acked, 1); }

/* Hands json to the stream with an ack of the test's, as the mqtt source does for the bundled broker. */
static void send_held(const char *json)
{
    ek_ack *a = ek_ack_new(count_ack, NULL);
    ek_value meta = ek_object_new(1);
    ek_object_set(&meta, "topic", ek_string("t"));
    held_in.payload_held(held_in.ctx, json, strlen(json), meta, a);
    ek_ack_unref(a); /* the source's own reference: the message has been handed over */
}

/* Waits (up to 2 s) for acked to reach n; returns its value. */
static int acked_reaches(int n)
{
    for (int i = 0; i < 200 && atomic_load(&acked) < n; i++) usleep(10000);
    return atomic_load(&acked);
}

static void setup(fx *f)
{
    ek_err err = {0};
    if (!ek_connector_source("heldsrc")) CU_ASSERT_EQUAL_FATAL(ek_connector_register_source(&heldsrc_ops, &err), 0);
    if (!ek_connector_sink("gatesink")) CU_ASSERT_EQUAL_FATAL(ek_connector_register_sink(&gatesink_ops, &err), 0);
    fx_open(f, NULL);
    fx_stream(f, "CREATE STREAM h (a BIGINT) WITH (TYPE=\"heldsrc\", DATASOURCE=\"h\")");
    atomic_store(&acked, 0);
    set_gate(true, false);
}

static int rule(fx *f, const char *id, const char *sql, const char *options, const char *sink_props)
{
    char *def = ek_asprintf("{\"id\":\"%s\",\"sql\":\"%s\",\"actions\":[{\"gatesink\":%s}],\"options\":%s}", id, sql,
                            sink_props ? sink_props : "{}", options);
    ek_err err = {0};
    int rc = ek_rules_rule_create(f->app.rules, def, strlen(def), NULL, &err);
    if (rc) fprintf(stderr, "rule %s: %s\n", id, err.msg);
    ek_free(def);
    return rc;
}

static void test_qos1_waits_for_the_sink(void)
{
    fx f;
    setup(&f);
    CU_ASSERT_EQUAL_FATAL(rule(&f, "r1", "SELECT a FROM h", "{\"qos\":1}", NULL), 0);
    set_gate(false, false);
    send_held("{\"a\":1}");
    wait_entered(1);
    usleep(50000);
    CU_ASSERT_EQUAL(atomic_load(&acked), 0); /* in the sink's hands, not delivered yet */
    set_gate(true, false);
    CU_ASSERT_EQUAL(acked_reaches(1), 1);
    CU_ASSERT_EQUAL(gate.delivered, 1);
    send_held("{\"a\":\"not a number\"}"); /* a mistyped row is still a row (no STRICT_VALIDATION) */
    CU_ASSERT_EQUAL(acked_reaches(2), 2);
    fx_close(&f, false);
}

static void test_qos0_and_filtered_rows_ack_at_once(void)
{
    fx f;
    setup(&f);
    CU_ASSERT_EQUAL_FATAL(rule(&f, "r0", "SELECT a FROM h", "{\"qos\":0}", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(rule(&f, "rf", "SELECT a FROM h WHERE a > 10", "{\"qos\":1}", NULL), 0);
    set_gate(false, false);
    send_held("{\"a\":1}"); /* r0's sink blocks; rf filters the row out */
    wait_entered(1);
    CU_ASSERT_EQUAL(acked_reaches(1), 1);
    set_gate(true, false);
    ek_rules_quiesce(f.app.rules);
    fx_close(&f, false);
}

static void test_two_rules_both_hold(void)
{
    fx f;
    setup(&f);
    CU_ASSERT_EQUAL_FATAL(rule(&f, "ra", "SELECT a FROM h", "{\"qos\":1}", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(rule(&f, "rb", "SELECT a FROM h", "{\"qos\":1}", NULL), 0);
    set_gate(false, false);
    send_held("{\"a\":1}");
    wait_entered(2);
    usleep(30000);
    CU_ASSERT_EQUAL(atomic_load(&acked), 0);
    set_gate(true, false);
    CU_ASSERT_EQUAL(acked_reaches(1), 1);
    ek_rules_quiesce(f.app.rules);
    CU_ASSERT_EQUAL(gate.delivered, 2);
    fx_close(&f, false);
}

static void test_window_rows_wait_for_a_checkpoint(void)
{
    fx f;
    setup(&f);
    CU_ASSERT_EQUAL_FATAL(rule(&f, "rw", "SELECT count(*) AS n FROM h GROUP BY TUMBLINGWINDOW(ss, 60)",
                               "{\"qos\":1,\"checkpointInterval\":300000}", NULL),
                          0);
    send_held("{\"a\":1}");
    ek_rules_quiesce(f.app.rules);
    CU_ASSERT_EQUAL(atomic_load(&acked), 0); /* in the window only */
    fx_step(&f, f.now + 1000, NULL, NULL); /* RULES_HELD_CKPT_MS: the held rows force a checkpoint */
    CU_ASSERT_EQUAL(acked_reaches(1), 1);
    char *text = NULL;
    size_t len = 0;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_store_get(f.app.store, "checkpoint", "rw", &text, &len, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(text);
    ek_free(text);
    fx_close(&f, false);
}

static void test_cached_results_ack_once_on_disk(void)
{
    fx f;
    setup(&f);
    set_gate(true, true); /* the destination is unreachable */
    CU_ASSERT_EQUAL_FATAL(rule(&f, "rc", "SELECT a FROM h", "{\"qos\":1}",
                               "{\"enableCache\":true,\"resendInterval\":\"1h\",\"cacheSyncInterval\":\"1h\"}"),
                          0);
    send_held("{\"a\":7}");
    CU_ASSERT_EQUAL(acked_reaches(1), 1); /* kept by the cache, written to disk by the sink */
    ek_rules_quiesce(f.app.rules);
    char *path = ek_asprintf("%s/cache.db", f.dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    CU_ASSERT_EQUAL_FATAL(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_prepare_v2(db, "SELECT count(*) FROM cache", -1, &st, NULL), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
    CU_ASSERT_EQUAL(sqlite3_column_int(st, 0), 1); /* on disk while the rule still runs */
    sqlite3_finalize(st);
    sqlite3_close(db);
    ek_free(path);
    fx_close(&f, false);
}

static void test_batches(void)
{
    fx f;
    setup(&f);
    /* batchSize alone: the batch could wait for messages a held publisher cannot send, so no hold */
    CU_ASSERT_EQUAL_FATAL(rule(&f, "rb", "SELECT a FROM h", "{\"qos\":1}", "{\"batchSize\":10}"), 0);
    send_held("{\"a\":1}");
    CU_ASSERT_EQUAL(acked_reaches(1), 1);
    CU_ASSERT_EQUAL(gate.delivered, 0); /* still in the batch */
    CU_ASSERT_EQUAL(ek_rules_rule_delete(f.app.rules, "rb", NULL), 0);
    /* with lingerInterval the hold lasts until the batch leaves */
    CU_ASSERT_EQUAL_FATAL(rule(&f, "rl", "SELECT a FROM h", "{\"qos\":1}",
                               "{\"batchSize\":10,\"lingerInterval\":100}"),
                          0);
    set_gate(true, false);
    send_held("{\"a\":2}");
    ek_rules_quiesce(f.app.rules);
    CU_ASSERT_EQUAL(atomic_load(&acked), 1);
    usleep(150000);                        /* lingerInterval passes (monotonic clock) */
    fx_step(&f, f.now + 200, NULL, NULL);  /* the sink's tick flushes the batch */
    CU_ASSERT_EQUAL(acked_reaches(2), 2);
    CU_ASSERT_EQUAL(gate.delivered, 1);
    fx_close(&f, false);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"qos 1: the ack waits for the sink", test_qos1_waits_for_the_sink},
        {"qos 0 and filtered rows ack at once", test_qos0_and_filtered_rows_ack_at_once},
        {"two qos 1 rules: the ack waits for both", test_two_rules_both_hold},
        {"window rows wait for a checkpoint", test_window_rows_wait_for_a_checkpoint},
        {"cached results ack once on disk", test_cached_results_ack_once_on_disk},
        {"batches: held with lingerInterval, not with batchSize alone", test_batches},
        {NULL, NULL},
    };
    ek_add_suite("held_ack", cases);
}
