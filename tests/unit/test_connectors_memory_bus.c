/* The in-process memory bus under contention: publishers that never pause must not starve
 * subscribe and unsubscribe (a rule being stopped or deleted). Before the bus lock preferred
 * writers, this test hung until ctest's timeout. */
#include "connectors/memory.h"
#include "tests/unit/test_util.h"

#include <pthread.h>
#include <stdatomic.h>
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

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"unsubscribe is not starved by publishers", test_unsubscribe_not_starved},
        {NULL, NULL},
    };
    ek_add_suite("memory bus", cases);
}
