/* Calls into the broker that wait for an answer, with a timeout: how another thread (the REST
 * API, a Prometheus scrape) reads or changes broker state, which lives on the reactor thread only.
 *
 * The caller posts the work and sleeps on a condition variable (monotonic clock) until the
 * reactor has run it or the timeout passes. The request is on the heap and shared: whichever side
 * finishes last frees it. A caller that gives up marks it abandoned and leaves; the reactor still
 * runs the work later (a post is never cancelled) and then frees the request and its argument,
 * so a slow broker never makes a caller read freed memory or the reactor write into it. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <errno.h>
#include <time.h>

typedef struct call {
    broker__post_fn fn;
    void *arg;
    void (*free_arg)(void *arg);
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, abandoned;
} call;

static void call_free(call *c)
{
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    ek_free(c);
}

static void run(ek_broker *b, void *arg)
{
    call *c = arg;
    c->fn(b, c->arg);
    pthread_mutex_lock(&c->mu);
    bool abandoned = c->abandoned;
    c->done = true;
    if (!abandoned) pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (abandoned) {
        if (c->free_arg) c->free_arg(c->arg);
        call_free(c);
    }
}

int broker__call(ek_broker *b, broker__post_fn fn, void *arg, void (*free_arg)(void *arg), int timeout_ms,
                 ek_err *err)
{
    if (!b->running || pthread_equal(pthread_self(), b->thr)) {
        fn(b, arg);
        return 0;
    }
    call *c = ek_calloc(1, sizeof *c);
    c->fn = fn;
    c->arg = arg;
    c->free_arg = free_arg;
    pthread_mutex_init(&c->mu, NULL);
    ek_cond_init_monotonic(&c->cv);

    struct timespec until = ek_deadline_in(CLOCK_MONOTONIC, timeout_ms);
    broker__post(b, run, c);
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    while (!c->done && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&c->cv, &c->mu, &until);
    bool done = c->done;
    if (!done) c->abandoned = true;
    pthread_mutex_unlock(&c->mu);
    if (!done) return ek_err_set(err, EK_ENOMEM, "broker: no answer within %d ms, it is busy", timeout_ms);
    call_free(c);
    return 0;
}
