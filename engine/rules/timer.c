/* The one timer thread: processing-time windows ask for a tick at a time (rules__timer_set) and
 * the thread posts a tick into the rule's mailbox when that time comes; it never runs operator
 * code itself. Only rules that want a tick are listed, so idle rules cost nothing here.
 * With manual_timers (tests), there is no thread: ek_rules_fire_timers does one pass at the
 * injected clock's now, which lets a test drive windows to the millisecond.
 * Invariant: run->timer_at and run->timer_idx are guarded by the timer's lock.
 *
 * The patrol (end of file), eKuiper v2's restartStrategy: every basic.rulePatrolInterval it tries
 * again the rules that failed to start and whose restartStrategy.attempts allow it. It also runs
 * the cron schedules (options.cron/duration), waking earlier when a scheduled start or stop is due.
 * Both threads start with the first rule that is started or scheduled (rule.c, start_threads): an
 * engine without rules runs neither.
 */
#include "engine/config.h"
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <errno.h>
#include <stdint.h>
#include <time.h>

typedef struct rules__timer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    rules__run **runs;
    size_t n, cap;
    bool stopping;
    bool has_thread;
    pthread_t thread;
} rules__timer;

static rules__timer *timer_of(ek_rules *r)
{
    if (!r->timer) {
        rules__timer *t = ek_calloc(1, sizeof *t);
        pthread_mutex_init(&t->lock, NULL);
        ek_cond_init_monotonic(&t->cond);
        r->timer = t;
    }
    return r->timer;
}

void rules__timer_set(ek_rules *r, rules__run *run, int64_t at)
{
    rules__timer *t = r->timer;
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    bool listed = run->timer_idx < t->n && t->runs[run->timer_idx] == run;
    if (at == INT64_MAX) {
        if (listed) {
            t->runs[run->timer_idx] = t->runs[--t->n];
            t->runs[run->timer_idx]->timer_idx = run->timer_idx;
        }
        run->timer_idx = SIZE_MAX;
    } else {
        if (!listed) {
            if (t->n == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 64;
                t->runs = ek_realloc(t->runs, t->cap * sizeof *t->runs);
            }
            run->timer_idx = t->n;
            t->runs[t->n++] = run;
            run->timer_at = at;
        } else if (at < run->timer_at) {
            run->timer_at = at;  /* a later wish than the pending one waits for the next tick */
        }
        pthread_cond_signal(&t->cond);
    }
    pthread_mutex_unlock(&t->lock);
}

void rules__timer_remove(ek_rules *r, rules__run *run)
{
    rules__timer_set(r, run, INT64_MAX);
}

/* Posts ticks to every due run; returns the earliest remaining deadline. Caller holds t->lock. */
static int64_t fire_due(ek_rules *r, rules__timer *t, int64_t now)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < t->n;) {
        rules__run *run = t->runs[i];
        if (run->timer_at <= now) {
            rules__actor_post_tick(r, &run->actor, now);
            t->runs[i] = t->runs[--t->n];   /* the rule sets its next deadline after the tick */
            t->runs[i]->timer_idx = i;
            run->timer_idx = SIZE_MAX;
            continue;
        }
        if (run->timer_at < next) next = run->timer_at;
        i++;
    }
    return next;
}

void ek_rules_fire_timers(ek_rules *r)
{
    rules__timer *t = r->timer;
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    fire_due(r, t, rules__now(r));
    pthread_mutex_unlock(&t->lock);
}

static void *timer_main(void *arg)
{
    ek_rules *r = arg;
    rules__timer *t = r->timer;
    pthread_setname_np(pthread_self(), "ek-timer");
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        int64_t now = rules__now(r);
        int64_t next = fire_due(r, t, now);
        int64_t wait_ms = next == INT64_MAX ? 1000 : next - now;
        if (wait_ms > 1000) wait_ms = 1000;  /* re-read a clock that may have jumped */
        if (wait_ms <= 0) continue;
        struct timespec ts = ek_deadline_in(CLOCK_MONOTONIC, wait_ms);
        pthread_cond_timedwait(&t->cond, &t->lock, &ts);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int rules__timer_start(ek_rules *r, ek_err *err)
{
    rules__timer *t = timer_of(r);
    if (r->opts.manual_timers || t->has_thread) return 0;
    if (pthread_create(&t->thread, NULL, timer_main, r) != 0)
        return ek_err_set(err, EK_EIO, "cannot start the rule timer thread");
    t->has_thread = true;
    return 0;
}

void rules__timer_stop(ek_rules *r)
{
    rules__timer *t = r->timer;
    if (!t) return;
    if (t->has_thread) {
        pthread_mutex_lock(&t->lock);
        t->stopping = true;
        pthread_cond_signal(&t->cond);
        pthread_mutex_unlock(&t->lock);
        pthread_join(t->thread, NULL);
    }
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    ek_free(t->runs);
    ek_free(t);
    r->timer = NULL;
}

/* ------------------------------------------------------------------ the patrol (restartStrategy) */

typedef struct rules__patrol {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    int64_t interval_ms;
    pthread_t thread;
} rules__patrol;

static void *patrol_main(void *arg)
{
    ek_rules *r = arg;
    rules__patrol *p = r->patrol;
    int64_t wait_ms = p->interval_ms;
    pthread_setname_np(pthread_self(), "ek-patrol");
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        struct timespec ts = ek_deadline_in(CLOCK_MONOTONIC, wait_ms);
        pthread_cond_timedwait(&p->cond, &p->lock, &ts);
        if (p->stopping) break;
        pthread_mutex_unlock(&p->lock);
        rules__restart_failed(r);
        int64_t next = rules__cron_patrol(r);  /* wakes in time for the next cron start or stop */
        int64_t now = rules__now(r);
        wait_ms = p->interval_ms;
        if (next != INT64_MAX && next - now < wait_ms) wait_ms = next - now > 10 ? next - now : 10;
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int rules__patrol_start(ek_rules *r, ek_err *err)
{
    if (r->patrol) return 0;
    rules__patrol *p = ek_calloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    ek_cond_init_monotonic(&p->cond);
    p->interval_ms = ek_config_duration_ms(r->app->config, "basic.rulePatrolInterval");
    if (p->interval_ms <= 0) p->interval_ms = 10000;
    r->patrol = p;
    if (pthread_create(&p->thread, NULL, patrol_main, r) != 0) {
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->cond);
        ek_free(p);
        r->patrol = NULL;
        return ek_err_set(err, EK_EIO, "cannot start the rule patrol thread");
    }
    return 0;
}

void rules__patrol_stop(ek_rules *r)
{
    rules__patrol *p = r->patrol;
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    ek_free(p);
    r->patrol = NULL;
}
