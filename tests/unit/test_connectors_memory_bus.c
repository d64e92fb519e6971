/* The in-process memory bus under contention: publishers that never pause must not starve
 * subscribe and unsubscribe (a rule being stopped or deleted), and a publisher waiting for room in
 * a full mailbox must hold up neither other publishers nor subscribe and unsubscribe. */
#include "connectors/memory.h"
#include "tests/unit/test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

static atomic_int stop_flag;
static atomic_long delivered;

/* A subscriber doing a little work per message (as a rule's enqueue does), so that the
 * publishers' read locks overlap all the time. */
static void on_msg(void *arg, const char *topic, const ek_value *msg)
{
    volatile unsigned spin = 0;
    for (int i = 0; i < 20000; i++) spin += (unsigned)i;
    atomic_fetch_add(&delivered, 1);
}

static void *publisher(void *arg)
{
    ek_value v = ek_int(1);
    while (!atomic_load(&stop_flag)) ek_memory_publish("bus/test", &v);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_unsubscribe_not_starved(void)
{
    long keep = ek_memory_subscribe("bus/#", on_msg, NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, publisher, NULL);
    /* Cycle only once the publishers are delivering, so the test measures real contention. */
    double start = now_s();
    while (atomic_load(&delivered) < 100 && now_s() - start < 10) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    CU_ASSERT_TRUE_FATAL(atomic_load(&delivered) >= 100);
    long before = atomic_load(&delivered);
    start = now_s();
    int cycles = 0;
    /* 200 subscribe/unsubscribe cycles while four threads publish flat out; bounded to 10 s. */
    while (cycles < 200 && now_s() - start < 10) {
        long id = ek_memory_subscribe("bus/+", on_msg, NULL);
        ek_memory_unsubscribe(id);
        cycles++;
    }
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    ek_memory_unsubscribe(keep);
    CU_ASSERT_EQUAL(cycles, 200);
    CU_ASSERT_TRUE(atomic_load(&delivered) > before);
}

/* ---- back-pressure while other threads subscribe, unsubscribe and publish ----
 * A subscriber's callback may wait for room in a full mailbox (a rule's, fed by a memory
 * source). Whoever drains that mailbox may itself publish on the bus (a memory sink on the rule's
 * thread, or on the sink pool the rule waits for). If the bus were locked during delivery, a
 * stream being unsubscribed at that moment (a waiting writer of a writer-preferring lock) would
 * block the drainer's publish, and the three would wait on each other for ever. Each wait below
 * is bounded: when the cycle forms, the test reports it and then opens the "mailbox" so that
 * every thread can finish. */

typedef struct mailbox {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered;   /* the publisher's callback is waiting for room */
    bool room;      /* the drainer made room (or the test gave up) */
    bool drained;   /* the drainer's own publish returned */
    bool unsubscribed;
    int seen;       /* messages the drainer's subscriber received */
    int full_calls; /* calls of the "full mailbox" callback */
} mailbox;

static mailbox mb = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void mb_set(bool *flag)
{
    pthread_mutex_lock(&mb.lock);
    *flag = true;
    pthread_cond_broadcast(&mb.cond);
    pthread_mutex_unlock(&mb.lock);
}

/* Waits up to secs for *flag; returns it. */
static bool mb_wait(bool *flag, double secs)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)secs;
    dl.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mb.lock);
    while (!*flag && pthread_cond_timedwait(&mb.cond, &mb.lock, &dl) == 0) {}
    bool v = *flag;
    pthread_mutex_unlock(&mb.lock);
    return v;
}

/* A rule's full mailbox: the delivery waits until someone makes room. */
static void full_mailbox(void *arg, const char *topic, const ek_value *msg)
{
    pthread_mutex_lock(&mb.lock);
    mb.full_calls++;
    mb.entered = true;
    pthread_cond_broadcast(&mb.cond);
    while (!mb.room) pthread_cond_wait(&mb.cond, &mb.lock);
    pthread_mutex_unlock(&mb.lock);
}

static void count_seen(void *arg, const char *topic, const ek_value *msg)
{
    pthread_mutex_lock(&mb.lock);
    mb.seen++;
    pthread_mutex_unlock(&mb.lock);
}

static void *publish_into_full(void *topic)
{
    ek_value v = ek_int(1);
    ek_memory_publish(topic, &v);
    return NULL;
}

static void *unsubscribe_other(void *arg)
{
    ek_memory_unsubscribe(*(long *)arg);
    mb_set(&mb.unsubscribed);
    return NULL;
}

/* The rule worker: publishes its result (memory sink), then takes mail from the mailbox. */
static void *drainer(void *arg)
{
    ek_value v = ek_int(2);
    ek_memory_publish("pipe/out", &v);
    mb_set(&mb.drained);
    mb_set(&mb.room);
    return NULL;
}

static void test_publish_waiting_for_room_blocks_nobody(void)
{
    long full = ek_memory_subscribe("pipe/in", full_mailbox, NULL);
    long out = ek_memory_subscribe("pipe/out", count_seen, NULL);
    long other = ek_memory_subscribe("pipe/other", count_seen, NULL);
    pthread_t pub, uns, drn;
    pthread_create(&pub, NULL, publish_into_full, "pipe/in");
    CU_ASSERT_TRUE_FATAL(mb_wait(&mb.entered, 10));
    /* A stream is being deleted while the publisher waits for room; give it time to queue up
     * as a writer (with the fix it is done at once). */
    pthread_create(&uns, NULL, unsubscribe_other, &other);
    mb_wait(&mb.unsubscribed, 0.3);
    pthread_create(&drn, NULL, drainer, NULL);
    bool drained = mb_wait(&mb.drained, 5);
    CU_ASSERT_TRUE(drained); /* false: publisher, unsubscriber and drainer wait on each other */
    mb_set(&mb.room);        /* the watchdog: let everybody finish either way */
    pthread_join(drn, NULL);
    pthread_join(pub, NULL);
    pthread_join(uns, NULL);
    CU_ASSERT_TRUE(mb.unsubscribed);
    CU_ASSERT_EQUAL(mb.seen, 1); /* the drainer's message was delivered, not dropped */
    ek_memory_unsubscribe(full);
    ek_memory_unsubscribe(out);
}

/* Unsubscribe still waits for a delivery in progress to that subscriber, and nothing is
 * delivered to it afterwards. */
static void *unsubscribe_full(void *arg)
{
    ek_memory_unsubscribe(*(long *)arg);
    mb_set(&mb.unsubscribed);
    return NULL;
}

static void test_unsubscribe_waits_for_delivery_in_flight(void)
{
    mb.entered = mb.room = mb.drained = mb.unsubscribed = false;
    mb.seen = mb.full_calls = 0;
    long full = ek_memory_subscribe("flight/in", full_mailbox, NULL);
    long seen = ek_memory_subscribe("flight/#", count_seen, NULL);
    pthread_t pub, uns;
    pthread_create(&pub, NULL, publish_into_full, "flight/in");
    CU_ASSERT_TRUE_FATAL(mb_wait(&mb.entered, 10));
    pthread_create(&uns, NULL, unsubscribe_full, &full);
    CU_ASSERT_FALSE(mb_wait(&mb.unsubscribed, 0.2)); /* the callback is still running */
    mb_set(&mb.room);
    pthread_join(uns, NULL);
    pthread_join(pub, NULL);
    CU_ASSERT_TRUE(mb.unsubscribed);
    ek_value v = ek_int(3);
    ek_memory_publish("flight/in", &v); /* after unsubscribe returned: no call */
    CU_ASSERT_EQUAL(mb.full_calls, 1);
    CU_ASSERT_EQUAL(mb.seen, 2); /* both publishes reached the other subscriber */
    ek_memory_unsubscribe(seen);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"unsubscribe is not starved by publishers", test_unsubscribe_not_starved},
        {"a publish waiting for mailbox room blocks no other publisher", test_publish_waiting_for_room_blocks_nobody},
        {"unsubscribe waits for the delivery in flight", test_unsubscribe_waits_for_delivery_in_flight},
        {NULL, NULL},
    };
    ek_add_suite("memory bus", cases);
}
