/* ek_app: what one running kuiperd is made of, passed to every subsystem instead of globals.
 * kuiperd.c builds it at start (configuration, store, broker, rule engine, REST server) and tears
 * it down in reverse order at shutdown. Subsystems keep a borrowed pointer to it. */
#ifndef EK_APP_H
#define EK_APP_H

#include "engine/config.h"
#include "engine/store.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

struct ek_broker;
struct ek_rules;
struct rest_tasks;

typedef struct ek_app {
    ek_config *config;
    ek_store *store;
    struct ek_broker *broker;  /* NULL when the bundled broker is disabled */
    struct ek_rules *rules;    /* the rule engine; NULL with --broker-only */
    int64_t started_ms;        /* wall clock at start */
    char *etc_dir, *data_dir, *log_dir, *plugins_dir;
    struct rest_tasks *rest_tasks; /* background REST tasks (rest/res_async.c), owned by the REST server */
} ek_app;

/* Wall-clock milliseconds since the epoch, and a monotonic clock in ms for measuring intervals. */
int64_t ek_now_ms(void);
int64_t ek_mono_ms(void);
/* The time on clock (CLOCK_REALTIME, or CLOCK_MONOTONIC for a condition variable set to it) ms
 * from now: the deadline to hand pthread_cond_timedwait. */
struct timespec ek_deadline_in(clockid_t clock, int64_t ms);
/* Initialises a condition variable whose timed waits use CLOCK_MONOTONIC (immune to wall-clock
 * jumps): wait on it until ek_deadline_in(CLOCK_MONOTONIC, ms). */
void ek_cond_init_monotonic(pthread_cond_t *cv);

#endif
