/* Actors and the worker pool: how thousands of rules share a few threads.
 *
 * Every running rule is an actor: a bounded mailbox (a ring of rules__mail) plus a pending-tick
 * flag. Posting to an idle actor puts it on the pool's run queue; a worker takes it, handles a
 * bounded number of mails (so one busy rule cannot starve the others), then requeues it if more
 * is waiting. Invariant: an actor is on the run queue or on a worker at most once (`scheduled`),
 * so a rule never runs on two threads at once and its operators need no locks.
 * There are two pools: rule actors run on the rule pool, sink actors (one per action of a running
 * rule) on the sink pool, so a slow destination holds a sink worker, not the rules.
 * Back-pressure: a full mailbox makes a source thread wait, and a rule worker wait on a full sink
 * mailbox (the sink pool never waits on the rule pool, so this cannot deadlock); a worker posting
 * into a rule (memory pipelines) never waits, it drops the oldest mail and the caller counts it.
 * Cost per message matters when hundreds of rules share a stream: a source fanning a message out
 * queues the rules it made runnable in one lock round (rules__sched), a rule worker does the same
 * for the sinks its batch of mails fed, a worker takes up to 16 mails per lock, and an idle rule
 * worker polls the run queue briefly before sleeping, so a steady source finds it awake.
 * The pools' threads start with the first rule that starts (rules__pool_spawn), not with the
 * engine: an engine without rules keeps no idle workers (bench/RESULTS.md, "Idle memory"). */
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <stdint.h>

#define BATCH_PER_TURN 64

struct rules__pool {
    ek_rules *eng;
    int kind;                   /* RULES_POOL_RULE or RULES_POOL_SINK */
    pthread_mutex_t lock;
    pthread_cond_t work;        /* the run queue got an actor, or stopping */
    pthread_cond_t idle;        /* busy dropped to zero */
    rules__actor *head, *tail;
    size_t busy;                /* actors scheduled (queued or running) */
    bool stopping;
    atomic_int queued;          /* the run queue is not empty (read without the lock by spinners) */
    atomic_bool halt;           /* stopping, for spinners */
    atomic_bool spinner;        /* a worker is polling (the others sleep) */
    pthread_t *threads;
    int nthreads;               /* started: 0 until the first rule starts (rules__pool_spawn) */
    int want;                   /* how many it has then */
};

static _Thread_local int on_pool;  /* 0: not a worker, else RULES_POOL_RULE or RULES_POOL_SINK */
/* On a rule worker: the sink actors its rules' results made runnable, queued together after each
 * batch of mails rather than one by one. */
static _Thread_local rules__sched turn_sinks;

void rules__mail_free(rules__mail *m)
{
    ek_row_unref(m->row);
    ek_free(m->err);
    ek_value_unref(&m->v);
    ek_value_unref(&m->meta);
    ek_ack_unref(m->ack);
    m->row = NULL;
    m->err = NULL;
    m->ack = NULL;
}

static rules__pool *pool_of(ek_rules *r, const rules__actor *a)
{
    return a->pool_kind == RULES_POOL_SINK ? r->sink_pool : r->pool;
}

void rules__actor_init(rules__actor *a, size_t cap)
{
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    a->limit = cap < 4 ? 4 : cap;
    a->cap = 4;  /* the ring grows up to limit: an idle rule costs a few bytes, not bufferLength slots */
    a->ring = ek_calloc(a->cap, sizeof *a->ring);
}

/* Doubles the ring (up to limit), unwrapping it; caller holds a->lock. */
static void grow(rules__actor *a)
{
    size_t cap = a->cap * 2 > a->limit ? a->limit : a->cap * 2;
    rules__mail *ring = ek_calloc(cap, sizeof *ring);
    for (size_t i = 0; i < a->len; i++) ring[i] = a->ring[(a->head + i) % a->cap];
    ek_free(a->ring);
    a->ring = ring;
    a->cap = cap;
    a->head = 0;
}

void rules__actor_destroy(rules__actor *a)
{
    for (size_t i = 0; i < a->len; i++) rules__mail_free(&a->ring[(a->head + i) % a->cap]);
    ek_free(a->ring);
    a->ring = NULL;
    a->len = 0;
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
}

/* Appends a to the run queue and counts it busy, waking nobody; caller holds p->lock. */
static inline void link_ready(rules__pool *p, rules__actor *a)
{
    a->next_ready = NULL;
    if (p->tail) p->tail->next_ready = a;
    else p->head = a;
    p->tail = a;
    p->busy++;
}

/* Appends a to the run queue and wakes a worker; caller holds p->lock. */
static void push_ready(rules__pool *p, rules__actor *a)
{
    link_ready(p, a);
    atomic_store_explicit(&p->queued, 1, memory_order_relaxed);
    pthread_cond_signal(&p->work);
}

/* Puts a on the run queue; caller holds a->lock and has set a->scheduled. */
static void enqueue(rules__pool *p, rules__actor *a)
{
    pthread_mutex_lock(&p->lock);
    push_ready(p, a);
    pthread_mutex_unlock(&p->lock);
}

void rules__sched_flush(ek_rules *r, rules__sched *s)
{
    if (s->n == 0) return;
    rules__pool *p = pool_of(r, s->v[0]);
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < s->n; i++) link_ready(p, s->v[i]);
    atomic_store_explicit(&p->queued, 1, memory_order_relaxed);
    pthread_cond_broadcast(&p->work);  /* one wake-up round for the lot */
    pthread_mutex_unlock(&p->lock);
    s->n = 0;
}

int rules__actor_post(ek_rules *r, rules__actor *a, rules__mail *m)
{
    return rules__actor_post_to(r, a, m, NULL);
}

int rules__actor_post_to(ek_rules *r, rules__actor *a, rules__mail *m, rules__sched *later)
{
    int rc = 0;
    pthread_mutex_lock(&a->lock);
    if (a->len == a->cap && a->cap < a->limit) grow(a);
    bool may_wait = on_pool == 0 || (on_pool == RULES_POOL_RULE && a->pool_kind == RULES_POOL_SINK);
    if (!later && on_pool == RULES_POOL_RULE && a->pool_kind == RULES_POOL_SINK) later = &turn_sinks;
    if (!a->closed && a->len == a->cap && may_wait && later && later->n) {
        /* Before waiting for room, queue what this thread made runnable: the actor we wait for
         * may be among them. (a->lock, then the pool's: the order enqueue uses.) */
        pthread_mutex_unlock(&a->lock);
        rules__sched_flush(r, later);
        pthread_mutex_lock(&a->lock);
        if (a->len == a->cap && a->cap < a->limit) grow(a);
    }
    while (!a->closed && a->len == a->cap && may_wait) pthread_cond_wait(&a->cond, &a->lock);
    if (a->closed) {
        pthread_mutex_unlock(&a->lock);
        rules__mail_free(m);
        return -1;
    }
    if (a->len == a->cap) { /* a worker posting: drop the oldest rather than wait on ourselves */
        rules__mail_free(&a->ring[a->head]);
        a->head = (a->head + 1) % a->cap;
        a->len--;
        a->dropped++;
        rc = 1;
    }
    a->ring[(a->head + a->len) % a->cap] = *m;
    a->len++;
    if (!a->scheduled && pool_of(r, a)) {
        a->scheduled = true;
        if (!later) {
            enqueue(pool_of(r, a), a);
        } else {  /* scheduled by rules__sched_flush; a is ours to queue until then */
            if (later->n == later->cap) {
                later->cap = later->cap ? later->cap * 2 : 16;
                later->v = ek_realloc(later->v, later->cap * sizeof *later->v);
            }
            later->v[later->n++] = a;
        }
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

void rules__actor_post_tick(ek_rules *r, rules__actor *a, int64_t now)
{
    pthread_mutex_lock(&a->lock);
    if (!a->closed) {
        a->tick_pending = true;
        if (now > a->tick_at) a->tick_at = now;
        if (!a->scheduled && pool_of(r, a)) {
            a->scheduled = true;
            enqueue(pool_of(r, a), a);
        }
    }
    pthread_mutex_unlock(&a->lock);
}

/* One turn of an actor on a worker: up to BATCH_PER_TURN mails, taken TAKE at a time under one
 * lock (a busy rule pays one lock round per TAKE mails), then the pending tick. Returns whether
 * the actor has more to do (it stays scheduled and goes back on the run queue). */
static bool run_turn(ek_rules *eng, rules__actor *a)
{
    enum { TAKE = 16 };
    rules__mail got[TAKE];
    int64_t cpu0 = rules__cpu_begin(eng);
    pthread_mutex_lock(&a->lock);
    for (int done = 0; done < BATCH_PER_TURN;) {
        size_t k = 0, len0 = a->len;
        while (k < TAKE && a->len > 0 && !a->closed) {
            got[k++] = a->ring[a->head];
            a->ring[a->head] = (rules__mail){0};
            a->head = (a->head + 1) % a->cap;
            a->len--;
        }
        if (k == 0) break;
        pthread_cond_broadcast(&a->cond);  /* room for a waiting poster */
        pthread_mutex_unlock(&a->lock);
        for (size_t i = 0; i < k; i++) {
            a->len_at_take = len0 - i;
            a->handle(a, &got[i]);
            rules__mail_free(&got[i]);
        }
        if (turn_sinks.n) rules__sched_flush(eng, &turn_sinks);
        done += (int)k;
        pthread_mutex_lock(&a->lock);
    }
    if (a->tick_pending && !a->closed) {
        int64_t at = a->tick_at;
        a->tick_pending = false;
        pthread_mutex_unlock(&a->lock);
        a->tick(a, at);
        if (turn_sinks.n) rules__sched_flush(eng, &turn_sinks);
        pthread_mutex_lock(&a->lock);
    }
    rules__cpu_end(a, cpu0);  /* still scheduled: nobody frees a meanwhile */
    bool again = !a->closed && (a->len > 0 || a->tick_pending);
    if (!again) a->scheduled = false;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return again;
}

/* A worker out of work polls the run queue for a short while before sleeping: a source posting
 * event after event then finds it awake, and each post costs a queue append instead of a futex
 * wake-up and a context switch. Bounded (about 50 µs), so an idle engine sleeps. */
static void spin_for_work(rules__pool *p)
{
    if (atomic_exchange_explicit(&p->spinner, true, memory_order_acquire)) return;  /* one spinner is enough */
    for (int i = 0; i < 2000; i++) {
        if (atomic_load_explicit(&p->queued, memory_order_relaxed) || atomic_load_explicit(&p->halt, memory_order_relaxed))
            break;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
        __asm__ volatile("yield");
#endif
    }
    atomic_store_explicit(&p->spinner, false, memory_order_release);
}

static void *worker(void *arg)
{
    rules__pool *p = arg;
    on_pool = p->kind;
    pthread_setname_np(pthread_self(), p->kind == RULES_POOL_SINK ? "ek-sink" : "ek-rule");
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (!p->head && !p->stopping && p->kind == RULES_POOL_RULE) {  /* sinks are fed in batches */
            pthread_mutex_unlock(&p->lock);
            spin_for_work(p);
            pthread_mutex_lock(&p->lock);
        }
        while (!p->head && !p->stopping) pthread_cond_wait(&p->work, &p->lock);
        if (!p->head) break;
        rules__actor *a = p->head;
        p->head = a->next_ready;
        if (!p->head) {
            p->tail = NULL;
            atomic_store_explicit(&p->queued, 0, memory_order_relaxed);
        }
        pthread_mutex_unlock(&p->lock);
        bool again = run_turn(p->eng, a);
        pthread_mutex_lock(&p->lock);  /* held on to take the next actor */
        p->busy--;
        if (again) push_ready(p, a);
        if (p->busy == 0) pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->lock);
    ek_free(turn_sinks.v);
    turn_sinks = (rules__sched){0};
    return NULL;
}

static void pool_free(rules__pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    atomic_store(&p->halt, true);
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle);
    ek_free(p->threads);
    ek_free(p);
}

/* A pool without its threads yet (rules__pool_spawn starts them). */
static rules__pool *pool_new(ek_rules *r, int kind, int nthreads)
{
    rules__pool *p = ek_calloc(1, sizeof *p);
    p->eng = r;
    p->kind = kind;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->want = nthreads;
    p->threads = ek_calloc((size_t)nthreads, sizeof *p->threads);
    return p;
}

/* Starts the pool's workers not running yet; 0 or EK_EIO (those started keep running). */
static int pool_spawn(rules__pool *p, ek_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&p->lock);
    const char *what = p->kind == RULES_POOL_SINK ? "sink" : "rule";
    while (p->nthreads < p->want && rc == 0) {
        if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0)
            rc = ek_err_set(err, EK_EIO, "cannot start %s worker thread %d", what, p->nthreads);
        else
            p->nthreads++;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void rules__pool_start(ek_rules *r, int nthreads)
{
    r->pool = pool_new(r, RULES_POOL_RULE, nthreads);
    r->sink_pool = pool_new(r, RULES_POOL_SINK, nthreads < 2 ? 2 : nthreads);
}

int rules__pool_spawn(ek_rules *r, ek_err *err)
{
    int rc = pool_spawn(r->pool, err);
    return rc ? rc : pool_spawn(r->sink_pool, err);
}

void rules__pool_stop(ek_rules *r)
{
    if (r->pool) pool_free(r->pool);
    if (r->sink_pool) pool_free(r->sink_pool);
    r->pool = r->sink_pool = NULL;
}

/* Waits until no actor of the pool is queued or running; returns whether it had to wait. */
static bool pool_idle(rules__pool *p)
{
    if (!p) return false;
    pthread_mutex_lock(&p->lock);
    bool waited = p->busy > 0;
    while (p->busy > 0) pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
    return waited;
}

void rules__actor_close(ek_rules *r, rules__actor *a)
{
    pthread_mutex_lock(&a->lock);
    a->closed = true;
    pthread_cond_broadcast(&a->cond);
    /* A queued actor that is closed is skipped by run_turn, which clears scheduled. */
    while (a->scheduled && pool_of(r, a)) pthread_cond_wait(&a->cond, &a->lock);
    pthread_mutex_unlock(&a->lock);
}

void rules__actor_drain(ek_rules *r, rules__actor *a)
{
    pthread_mutex_lock(&a->lock);
    while ((a->len > 0 || a->scheduled) && !a->closed && pool_of(r, a)) pthread_cond_wait(&a->cond, &a->lock);
    pthread_mutex_unlock(&a->lock);
}

void ek_rules_quiesce(ek_rules *r)
{
    /* Sinks may feed rules (memory pipelines) and rules feed sinks: wait until a pass finds both idle. */
    for (;;) {
        bool a = pool_idle(r->pool);
        bool b = pool_idle(r->sink_pool);
        if (!a && !b) break;
    }
}
