/* A memory pipeline under back-pressure while a stream is unsubscribed: the deadlock the memory
 * bus had when publishers held its (writer-preferring) lock while waiting for mailbox room.
 * A thread publishes into rule p's tiny mailbox; p's memory sink (a tiny sink mailbox) publishes
 * to a slow subscriber, so p's worker waits for its sink and the publisher waits for p. Meanwhile
 * another thread subscribes and unsubscribes (a stream being created and deleted). If the bus
 * were locked during delivery, the unsubscriber would queue behind the waiting publisher and the
 * sink's publish behind the unsubscriber: nothing could move again. A bounded wait reports that
 * as a failure (and exits, since the stuck threads cannot be freed) instead of hanging. */
#include "tests/unit/rules_fixture.h"

#include <stdatomic.h>
#include <time.h>

#define NMSG 300

static atomic_int slow_seen, churn_stop, churn_cycles;
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static bool published;

/* The sink's destination: slow enough that the sink mailbox, then the rule's, fill up. */
static void slow_sub(void *arg, const char *topic, const ek_value *msg)
{
    usleep(500);
    atomic_fetch_add(&slow_seen, 1);
}

static void noop_sub(void *arg, const char *topic, const ek_value *msg) {}

static void *publisher(void *arg)
{
    ek_value v = ek_object_new(1);
    ek_object_set(&v, "a", ek_float(1));
    for (int i = 0; i < NMSG; i++) ek_memory_publish("in/demo", &v);
    ek_value_unref(&v);
    pthread_mutex_lock(&done_mu);
    published = true;
    pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&done_mu);
    return NULL;
}

static void *churn(void *arg)
{
    while (!atomic_load(&churn_stop)) {
        long id = ek_memory_subscribe("other/topic", noop_sub, NULL);
        usleep(100);
        ek_memory_unsubscribe(id);
        atomic_fetch_add(&churn_cycles, 1);
    }
    return NULL;
}

static void test_pipeline_backpressure_with_unsubscribe(void)
{
    fx f;
    fx_open(&f, NULL);
    fx_stream(&f, "CREATE STREAM demo () WITH (TYPE=\"memory\", DATASOURCE=\"in/demo\")");
    const char *rule = "{\"id\":\"p\",\"sql\":\"SELECT a FROM demo\",\"options\":{\"bufferLength\":4},"
                       "\"actions\":[{\"memory\":{\"topic\":\"slow/p\",\"bufferLength\":4}}]}";
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_rules_rule_create(f.app.rules, rule, strlen(rule), NULL, &err), 0);
    long slow = ek_memory_subscribe("slow/p", slow_sub, NULL);
    pthread_t pub, ch;
    pthread_create(&ch, NULL, churn, NULL);
    pthread_create(&pub, NULL, publisher, NULL);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 20;  /* NMSG * 0.5 ms of slow subscriber is well under a second */
    pthread_mutex_lock(&done_mu);
    while (!published && pthread_cond_timedwait(&done_cv, &done_mu, &dl) == 0) {}
    bool ok = published;
    pthread_mutex_unlock(&done_mu);
    if (!ok) {
        fprintf(stderr, "\nFAILED: publisher, unsubscriber and the rule's sink wait on each other "
                        "(%d of %d messages through)\n", atomic_load(&slow_seen), NMSG);
        fflush(stderr);
        _exit(1);
    }
    atomic_store(&churn_stop, 1);
    pthread_join(pub, NULL);
    pthread_join(ch, NULL);
    ek_rules_quiesce(f.app.rules);
    CU_ASSERT_TRUE(atomic_load(&churn_cycles) > 0);
    CU_ASSERT_EQUAL(atomic_load(&slow_seen), NMSG);  /* back-pressure, nothing dropped */
    CU_ASSERT_EQUAL(fx_status_int(&f, "p", "source_demo_0_records_in_total"), NMSG);
    ek_memory_unsubscribe(slow);
    fx_close(&f, false);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"memory pipeline under back-pressure while a stream unsubscribes", test_pipeline_backpressure_with_unsubscribe},
        {NULL, NULL},
    };
    ek_add_suite("rules memory back-pressure", cases);
}
