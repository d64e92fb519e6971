/* Unit tests of the broker's overload protection and of calls that wait for the reactor:
 * the token bucket against a driven clock (burst, refill, rate 0), the topic limits (levels,
 * length, $SYS filters exempt, counted), the new keys in broker/config.c, and broker__call's
 * timeout: a call abandoned while the reactor is blocked returns at once with EK_ENOMEM, and the
 * reactor later runs it and frees its argument (no leak or use after free under ASan). */
#include "broker/broker_int.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <string.h>
#include <unistd.h>

static void test_bucket(void)
{
    broker__bucket k = {0};
    int64_t t = 5000;
    for (int i = 0; i < 4; i++) CU_ASSERT_TRUE(broker__bucket_take(&k, 4, t)); /* a second's burst */
    CU_ASSERT_FALSE(broker__bucket_take(&k, 4, t));
    CU_ASSERT_FALSE(broker__bucket_take(&k, 4, t + 200)); /* 0.8 of a token */
    CU_ASSERT_TRUE(broker__bucket_take(&k, 4, t + 250));  /* 1 token after 250 ms */
    CU_ASSERT_FALSE(broker__bucket_take(&k, 4, t + 250));
    /* Idle for long: full again, never more than the burst. */
    int ok = 0;
    for (int i = 0; i < 10; i++) ok += broker__bucket_take(&k, 4, t + 60000);
    CU_ASSERT_EQUAL(ok, 4);
    /* Rate 0: no limit. */
    broker__bucket z = {0};
    for (int i = 0; i < 1000; i++) CU_ASSERT_TRUE(broker__bucket_take(&z, 0, t));
    /* Rate 1: one a second. */
    broker__bucket one = {0};
    CU_ASSERT_TRUE(broker__bucket_take(&one, 1, t));
    CU_ASSERT_FALSE(broker__bucket_take(&one, 1, t + 999));
    CU_ASSERT_TRUE(broker__bucket_take(&one, 1, t + 1000));
}

static ek_broker *start(const char *k1, int v1, const char *k2, int v2)
{
    ek_value sec = ek_object_new(6);
    ek_object_set(&sec, "bind", ek_string("127.0.0.1"));
    ek_object_set(&sec, "port", ek_int(0));
    ek_object_set(&sec, "sysInterval", ek_int(0));
    if (k1) ek_object_set(&sec, k1, ek_int(v1));
    if (k2) ek_object_set(&sec, k2, ek_int(v2));
    ek_broker *b = NULL;
    ek_err err = {0};
    int rc = ek_broker_start(&sec, NULL, &b, &err);
    ek_value_unref(&sec);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    return b;
}

static void test_topic_limits(void)
{
    ek_broker *b = start("maxTopicLevels", 3, "maxTopicLength", 12);
    CU_ASSERT_EQUAL(broker__overload_topic(b, "a/b/c", 5, false), 0);
    CU_ASSERT_EQUAL(broker__overload_topic(b, "a/b/c/d", 7, false), RC_TOPIC_INVALID);
    CU_ASSERT_EQUAL(broker__overload_topic(b, "a/b/c/#", 7, true), RC_FILTER_INVALID);
    CU_ASSERT_EQUAL(broker__overload_topic(b, "//", 2, false), 0);    /* three empty levels */
    CU_ASSERT_EQUAL(broker__overload_topic(b, "///", 3, false), RC_TOPIC_INVALID);
    CU_ASSERT_EQUAL(broker__overload_topic(b, "abcdefghijklm", 13, false), RC_TOPIC_INVALID);
    CU_ASSERT_EQUAL(broker__overload_topic(b, "$SYS/brokers/kuiperd/overload/#", 31, true), 0);
    CU_ASSERT_EQUAL(b->st.ov_topic_levels, 3);
    CU_ASSERT_EQUAL(b->st.ov_topic_length, 1);
    ek_broker_stats st;
    CU_ASSERT_EQUAL(ek_broker_stats_get(b, &st), 0);
    CU_ASSERT_EQUAL(st.refused_topic_levels, 3);
    CU_ASSERT_EQUAL(st.refused_topic_length, 1);
    ek_broker_stop(b);
    /* The default: 128 levels, no length limit. */
    b = start(NULL, 0, NULL, 0);
    char deep[400];
    size_t n = 0;
    for (int i = 0; i < 129; i++) n += (size_t)snprintf(deep + n, sizeof deep - n, i ? "/x" : "x");
    CU_ASSERT_EQUAL(broker__overload_topic(b, deep, n - 2, false), 0);
    CU_ASSERT_EQUAL(broker__overload_topic(b, deep, n, false), RC_TOPIC_INVALID);
    ek_broker_stop(b);
}

static void test_config_keys(void)
{
    broker__cfg c;
    ek_err err = {0};
    ek_value sec = ek_object_new(4);
    ek_object_set(&sec, "MAXCONNRATE", ek_int(10));
    ek_object_set(&sec, "maxMessageRate", ek_int(100));
    ek_object_set(&sec, "maxTopicLength", ek_int(256));
    CU_ASSERT_EQUAL(broker__cfg_load(&c, &sec, &err), 0);
    CU_ASSERT_EQUAL(c.max_conn_rate, 10);
    CU_ASSERT_EQUAL(c.max_msg_rate, 100);
    CU_ASSERT_EQUAL(c.max_topic_length, 256);
    CU_ASSERT_EQUAL(c.max_topic_levels, 128);
    broker__cfg_free(&c);
    ek_object_set(&sec, "maxTopicLevels", ek_int(70000));
    CU_ASSERT_EQUAL(broker__cfg_load(&c, &sec, &err), EK_ECONF);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "broker.maxTopicLevels"));
    broker__cfg_free(&c);
    ek_value_unref(&sec);
}

/* ---- broker__call ---- */

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open, entered;
} gate;

static void block(ek_broker *b, void *arg)
{
    gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cv);
    while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static atomic_int ran, freed;

static void work(ek_broker *b, void *arg)
{
    *(int *)arg = 42;
    atomic_fetch_add(&ran, 1);
}

static void free_work(void *arg)
{
    atomic_fetch_add(&freed, 1);
    ek_free(arg);
}

static void test_call_timeout(void)
{
    ek_broker *b = start(NULL, 0, NULL, 0);
    int *v = ek_calloc(1, sizeof *v);
    ek_err err = {0};
    CU_ASSERT_EQUAL(broker__call(b, work, v, free_work, 1000, &err), 0); /* an idle reactor answers */
    CU_ASSERT_EQUAL(*v, 42);
    CU_ASSERT_EQUAL(atomic_load(&freed), 0); /* the caller still owns it */
    ek_free(v);

    gate g = {.open = false};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    broker__post(b, block, &g);
    pthread_mutex_lock(&g.mu);
    while (!g.entered) pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    v = ek_calloc(1, sizeof *v);
    CU_ASSERT_EQUAL(broker__call(b, work, v, free_work, 100, &err), EK_ENOMEM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "100 ms"));
    CU_ASSERT_EQUAL(atomic_load(&ran), 1);
    ek_broker_stats st;
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    for (int i = 0; i < 200 && atomic_load(&freed) < 1; i++) usleep(10000);
    CU_ASSERT_EQUAL(atomic_load(&ran), 2);   /* the abandoned call ran later */
    CU_ASSERT_EQUAL(atomic_load(&freed), 1); /* and the broker freed its argument */
    CU_ASSERT_EQUAL(ek_broker_stats_get(b, &st), 0);
    ek_broker_stop(b);
    pthread_mutex_destroy(&g.mu);
    pthread_cond_destroy(&g.cv);
}

static void test_admin_without_broker(void)
{
    ek_value rows;
    ek_err err = {0};
    ek_broker_query q = {0};
    CU_ASSERT_EQUAL(ek_broker_clients(NULL, &q, &rows, &err), EK_ESTATE);
    CU_ASSERT_EQUAL(ek_broker_client_kick(NULL, "x", &err), EK_ESTATE);
    ek_broker *b = start(NULL, 0, NULL, 0);
    CU_ASSERT_EQUAL(ek_broker_client_kick(b, "nobody", &err), EK_ENOTFOUND);
    CU_ASSERT_EQUAL(ek_broker_retained_delete(b, "a/b", &err), EK_ENOTFOUND);
    CU_ASSERT_EQUAL(ek_broker_publish(b, "a/b", "v", 1, 0, true, &err), 0);
    ek_value one;
    for (int i = 0; i < 200; i++) {
        if (ek_broker_retained_get(b, "a/b", &one, &err) == 0) break;
        usleep(10000);
    }
    CU_ASSERT_STRING_EQUAL(ek_str_ptr(ek_object_get(&one, "payload")), "v");
    ek_value_unref(&one);
    CU_ASSERT_EQUAL(ek_broker_retained(b, &q, &rows, &err), 0);
    CU_ASSERT_EQUAL(q.total, 1);
    ek_value_unref(&rows);
    CU_ASSERT_EQUAL(ek_broker_retained_delete(b, "a/b", &err), 0);
    CU_ASSERT_EQUAL(ek_broker_retained_get(b, "a/b", &one, &err), EK_ENOTFOUND);
    ek_broker_stop(b);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"token bucket", test_bucket},
        {"topic levels and length", test_topic_limits},
        {"configuration keys", test_config_keys},
        {"broker__call timeout", test_call_timeout},
        {"management calls", test_admin_without_broker},
        {NULL, NULL},
    };
    ek_add_suite("broker_overload", cases);
}
