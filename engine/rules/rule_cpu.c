/* Per-rule CPU time for eKuiper's GET /rules/usage/cpu ("the CPU time used by all rules in the past
 * 30 seconds, in milliseconds"), when basic.resourceProfileConfig.enable is true.
 *
 * eKuiper samples Go's profiler; kuiperd measures instead: a worker reads its thread's CPU clock
 * around each turn of an actor (actor.c, run_turn) and adds the difference to the actor's current
 * 5-second bucket. A rule's figure is the sum over its actors (the run, the parts of a graph rule,
 * its sinks) of the buckets of the last 30 seconds. Only the worker running an actor writes its
 * buckets (an actor never runs on two threads at once); readers see relaxed atomics. Off, the cost
 * is one flag load per turn. */
#include "engine/rules/rules_int.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define BUCKET_MS 5000

void ek_rules_cpu_profile(ek_rules *r, bool on)
{
    atomic_store(&r->cpu_profile, on);
}

bool ek_rules_cpu_profiling(ek_rules *r)
{
    return atomic_load(&r->cpu_profile);
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t rules__cpu_begin(ek_rules *r)
{
    return atomic_load_explicit(&r->cpu_profile, memory_order_relaxed) ? thread_cpu_ns() : -1;
}

void rules__cpu_end(rules__actor *a, int64_t t0)
{
    if (t0 < 0) return;
    int64_t epoch = rules__coarse_ms() / BUCKET_MS;
    size_t b = (size_t)(epoch % RULES_CPU_BUCKETS);
    if (atomic_load_explicit(&a->cpu_epoch[b], memory_order_relaxed) != epoch) {
        atomic_store_explicit(&a->cpu_ns[b], 0, memory_order_relaxed);
        atomic_store_explicit(&a->cpu_epoch[b], epoch, memory_order_relaxed);
    }
    rules__m_add(&a->cpu_ns[b], thread_cpu_ns() - t0);
}

/* CPU ns of the actor in the buckets of the last 30 s (the current one included). */
static int64_t recent_ns(rules__actor *a, int64_t epoch)
{
    int64_t sum = 0;
    for (size_t b = 0; b < RULES_CPU_BUCKETS; b++) {
        int64_t e = atomic_load_explicit(&a->cpu_epoch[b], memory_order_relaxed);
        if (e > epoch - 30000 / BUCKET_MS && e <= epoch) sum += atomic_load_explicit(&a->cpu_ns[b], memory_order_relaxed);
    }
    return sum;
}

void ek_rules_cpu_usage(ek_rules *r, ek_value *out)
{
    int64_t epoch = rules__coarse_ms() / BUCKET_MS;
    pthread_mutex_lock(&r->lock);
    *out = ek_object_new(r->nrules);
    for (size_t i = 0; i < r->nrules; i++) {
        rules__rule *ru = r->rules[i];
        if (!ru->run) continue;
        int64_t ns = 0;
        for (rules__run *part = ru->run; part; part = part->part_next) {
            ns += recent_ns(&part->actor, epoch);
            for (size_t s = 0; s < part->nsinks; s++) ns += recent_ns(&part->sinks[s].actor, epoch);
        }
        ek_object_set(out, ru->id, ek_int(ns / 1000000));
    }
    pthread_mutex_unlock(&r->lock);
}
