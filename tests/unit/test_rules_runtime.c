/* The actor runtime under load: many rules on one shared stream fed from several threads at once
 * receive every message exactly once (a full mailbox makes the publisher wait, nothing is lost),
 * each rule's metrics count what it saw, and rules can be stopped and deleted while data flows.
 * Run it under ASan/UBSan (build-rules-asan) to check the locking and the lifetimes. */
#include "tests/unit/rules_fixture.h"

#include <stdatomic.h>
#include <time.h>

#define NRULES 50
#define NMSG 400
#define NTHREADS 3

static void *publisher(void *arg)
{
    (void)arg;
    ek_value v = ek_object_new(1);
    ek_object_set(&v, "a", ek_float(1));
    for (int i = 0; i < NMSG; i++) ek_memory_publish("in/demo", &v);
    ek_value_unref(&v);
    return NULL;
}

/* Opens the fixture with stream demo on in/demo and NRULES rules r0, r1 ... running sql. */
static void open_rules(fx *f, const char *sql, const char *options)
{
    fx_open(f, NULL);
    fx_stream(f, "CREATE STREAM demo () WITH (TYPE=\"memory\", DATASOURCE=\"in/demo\")");
    ek_err err = {0};
    for (int i = 0; i < NRULES; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        CU_ASSERT_EQUAL_FATAL(fx_rule(f, id, sql, options, &err), 0);
    }
}

static void test_many_rules_no_loss(void)
{
    fx f;
    /* a tiny mailbox forces back-pressure on the publishers */
    open_rules(&f, "SELECT count(*) AS c FROM demo GROUP BY COUNTWINDOW(100)", "{\"bufferLength\":4}");
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, publisher, NULL);
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    ek_rules_quiesce(f.app.rules);
    /* every rule saw NTHREADS * NMSG rows, i.e. that many / 100 full windows of 100 */
    CU_ASSERT_EQUAL(f.nout, NRULES * NTHREADS * NMSG / 100);
    int bad = 0;
    for (int i = 0; i < f.nout; i++) bad += strcmp(f.out[i], "[{\"c\":100}]") != 0;
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(fx_status_int(&f, "r7", "source_demo_0_records_in_total"), NTHREADS * NMSG);
    CU_ASSERT_EQUAL(fx_status_int(&f, "r7", "op_2_window_0_records_in_total"), NTHREADS * NMSG);
    CU_ASSERT_EQUAL(fx_status_int(&f, "r7", "sink_memory_0_0_records_out_total"), NTHREADS * NMSG / 100);
    fx_close(&f, false);
}

static void *stopper(void *arg)
{
    fx *f = arg;
    ek_err err = {0};
    for (int i = 0; i < NRULES; i += 2) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        if (i % 4 == 0) ek_rules_rule_stop(f->app.rules, id, &err);
        else ek_rules_rule_delete(f->app.rules, id, &err);
    }
    return NULL;
}

static void test_stop_while_running(void)
{
    fx f;
    open_rules(&f, "SELECT a FROM demo WHERE a > 0", NULL);
    pthread_t pub, stop;
    pthread_create(&pub, NULL, publisher, NULL);
    pthread_create(&stop, NULL, stopper, &f);
    pthread_join(pub, NULL);
    pthread_join(stop, NULL);
    ek_rules_quiesce(f.app.rules);
    /* odd rules ran throughout and saw everything */
    CU_ASSERT_EQUAL(fx_status_int(&f, "r1", "source_demo_0_records_in_total"), NMSG);
    CU_ASSERT_FALSE(ek_rules_rule_running(f.app.rules, "r0"));
    CU_ASSERT_EQUAL(fx_status_int(&f, "r2", "source_demo_0_records_in_total"), -1);  /* deleted */
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_rules_rule_start(f.app.rules, "r0", &err), 0);
    fx_close(&f, false);
}

/* A source whose open and close wait (at most 2 s) until another thread has read the rules'
 * status, as a source does whose close waits for a message being handed over by a thread that
 * needs the engine. Holding the engine lock across them makes every wait time out. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered, probed, timeouts;
    bool stop;
    ek_rules *r;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, false, NULL};

static void gate_wait(void)
{
    pthread_mutex_lock(&gate.mu);
    int want = ++gate.entered;
    pthread_cond_broadcast(&gate.cv);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    while (gate.probed < want)
        if (pthread_cond_timedwait(&gate.cv, &gate.mu, &ts) != 0) {
            gate.timeouts++;
            break;
        }
    pthread_mutex_unlock(&gate.mu);
}

static void *gate_prober(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate.mu);
    for (;;) {
        while (!gate.stop && gate.entered == gate.probed) pthread_cond_wait(&gate.cv, &gate.mu);
        if (gate.stop) break;
        pthread_mutex_unlock(&gate.mu);
        ek_value list;
        ek_rules_rule_list(gate.r, &list);  /* takes the engine lock */
        ek_value_unref(&list);
        pthread_mutex_lock(&gate.mu);
        gate.probed++;
        pthread_cond_broadcast(&gate.cv);
    }
    pthread_mutex_unlock(&gate.mu);
    return NULL;
}

static int gated_open(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err)
{
    gate_wait();
    return ek_memory_source_ops.open(st, conf, ingest, err);
}

static void gated_close(void *st)
{
    gate_wait();
    ek_memory_source_ops.close(st);
}

static const ek_source_ops gated_ops = {
    .type = "gated", .state_size = 64, .open = gated_open, .close = gated_close,
};

static void test_no_lock_across_source_open_close(void)
{
    fx f;
    fx_open(&f, NULL);
    ek_err err = {0};
    if (!ek_connector_source("gated")) CU_ASSERT_EQUAL_FATAL(ek_connector_register_source(&gated_ops, &err), 0);
    gate.r = f.app.rules;
    pthread_t prober;
    pthread_create(&prober, NULL, gate_prober, NULL);
    fx_stream(&f, "CREATE STREAM g () WITH (TYPE=\"gated\", DATASOURCE=\"in/g\")");
    CU_ASSERT_EQUAL(fx_rule(&f, "a", "SELECT a FROM g", NULL, &err), 0);     /* opens the source */
    CU_ASSERT_EQUAL(fx_rule(&f, "b", "SELECT a FROM g", NULL, &err), 0);     /* shares it */
    fx_step(&f, f.now + 1, "g", "{\"a\":1}");
    CU_ASSERT_EQUAL(f.nout, 2);
    CU_ASSERT_EQUAL(ek_rules_rule_stop(f.app.rules, "a", &err), 0);
    CU_ASSERT_EQUAL(ek_rules_rule_delete(f.app.rules, "b", &err), 0);       /* closes it */
    CU_ASSERT_EQUAL(ek_rules_rule_restart(f.app.rules, "a", &err), 0);      /* opens it again */
    fx_close(&f, false);                                                     /* closes it */
    pthread_mutex_lock(&gate.mu);
    gate.stop = true;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
    pthread_join(prober, NULL);
    CU_ASSERT_EQUAL(gate.entered, 4);
    CU_ASSERT_EQUAL(gate.timeouts, 0);
}

/* Streams whose last rule goes away close their source while publishers flood tiny mailboxes and
 * a reader polls every rule's status: nothing may hang (the test's timeout) or be touched after
 * it is freed (ASan). */
#define FLOOD_STREAMS 4
#define FLOOD_RULES 24

static atomic_int flood_stop;

static void *flood_publisher(void *arg)
{
    const char *topic = arg;
    ek_value v = ek_object_new(1);
    ek_object_set(&v, "a", ek_float(1));
    /* Bursts with short pauses: the memory bus's rwlock prefers readers, so publishers that never
     * pause would starve a source's unsubscribe (a connectors/memory.c matter, not the engine's). */
    for (int n = 0; !atomic_load(&flood_stop); n++) {
        ek_memory_publish(topic, &v);
        if (n % 16 == 15) usleep(200);
    }
    ek_value_unref(&v);
    return NULL;
}

static void *flood_reader(void *arg)
{
    ek_rules *r = arg;
    while (!atomic_load(&flood_stop)) {
        ek_value all;
        ek_rules_rule_status_all(r, &all);
        ek_value_unref(&all);
    }
    return NULL;
}

static void test_stop_delete_under_flood(void)
{
    fx f;
    fx_open(&f, NULL);
    ek_err err = {0};
    static char topics[FLOOD_STREAMS][16];
    for (int s = 0; s < FLOOD_STREAMS; s++) {
        char sql[128];
        snprintf(topics[s], sizeof topics[s], "in/f%d", s);
        snprintf(sql, sizeof sql, "CREATE STREAM f%d () WITH (TYPE=\"memory\", DATASOURCE=\"%s\")", s, topics[s]);
        fx_stream(&f, sql);
    }
    atomic_store(&flood_stop, 0);
    pthread_t pubs[FLOOD_STREAMS], reader;
    for (int s = 0; s < FLOOD_STREAMS; s++) pthread_create(&pubs[s], NULL, flood_publisher, topics[s]);
    pthread_create(&reader, NULL, flood_reader, f.app.rules);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < FLOOD_RULES; i++) {
            char id[16], sql[64];
            snprintf(id, sizeof id, "r%d", i);
            snprintf(sql, sizeof sql, "SELECT a FROM f%d WHERE a > 0", i % FLOOD_STREAMS);
            CU_ASSERT_EQUAL(fx_rule(&f, id, sql, "{\"bufferLength\":4}", &err), 0);
        }
        usleep(20000);
        for (int i = 0; i < FLOOD_RULES; i++) {
            char id[16];
            snprintf(id, sizeof id, "r%d", i);
            if (i % 3 == 0) CU_ASSERT_EQUAL(ek_rules_rule_stop(f.app.rules, id, &err), 0);
            CU_ASSERT_EQUAL(ek_rules_rule_delete(f.app.rules, id, &err), 0);
        }
    }
    atomic_store(&flood_stop, 1);
    for (int s = 0; s < FLOOD_STREAMS; s++) pthread_join(pubs[s], NULL);
    pthread_join(reader, NULL);
    ek_value list;
    ek_rules_rule_list(f.app.rules, &list);
    CU_ASSERT_EQUAL(ek_array_len(&list), 0);
    ek_value_unref(&list);
    fx_close(&f, false);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"many rules, concurrent publishers, no loss", test_many_rules_no_loss},
        {"stop and delete rules while data flows", test_stop_while_running},
        {"no engine lock across a source's open and close", test_no_lock_across_source_open_close},
        {"stop and delete rules under a flood", test_stop_delete_under_flood},
        {NULL, NULL},
    };
    ek_add_suite("rules_runtime", cases);
}
