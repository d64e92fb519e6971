/* The actor runtime under load: many rules on one shared stream fed from several threads at once
 * receive every message exactly once (a full mailbox makes the publisher wait, nothing is lost),
 * each rule's metrics count what it saw, and rules can be stopped and deleted while data flows.
 * Run it under ASan/UBSan (build-rules-asan) to check the locking and the lifetimes. */
#include "tests/unit/rules_fixture.h"

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

static void test_many_rules_no_loss(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, "CREATE STREAM demo () WITH (TYPE=\"memory\", DATASOURCE=\"in/demo\")");
    ek_err err = {0};
    for (int i = 0; i < NRULES; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        /* a tiny mailbox forces back-pressure on the publishers */
        CU_ASSERT_EQUAL_FATAL(fx_rule(&f, id, "SELECT count(*) AS c FROM demo GROUP BY COUNTWINDOW(100)",
                                      "{\"bufferLength\":4}", &err), 0);
    }
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
    fx_open(&f, NULL);
    fx_stream(&f, "CREATE STREAM demo () WITH (TYPE=\"memory\", DATASOURCE=\"in/demo\")");
    ek_err err = {0};
    for (int i = 0; i < NRULES; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        CU_ASSERT_EQUAL_FATAL(fx_rule(&f, id, "SELECT a FROM demo WHERE a > 0", NULL, &err), 0);
    }
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
    CU_ASSERT_EQUAL(ek_rules_rule_start(f.app.rules, "r0", &err), 0);
    fx_close(&f, false);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"many rules, concurrent publishers, no loss", test_many_rules_no_loss},
        {"stop and delete rules while data flows", test_stop_while_running},
        {NULL, NULL},
    };
    ek_add_suite("rules_runtime", cases);
}
