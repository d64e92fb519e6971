/* The background thread of a polling source (file, httppull): started by open, it sleeps between
 * reads in naps that close can cut short, and close stops and joins it. One place for the
 * mutex, condition and stop flag, so every source stops the same way and close never waits out
 * an interval. */
#ifndef EK_POLLER_H
#define EK_POLLER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ek_poller {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, started;
} ek_poller;

/* Starts run(arg) on its own thread; returns 0, or -1 when no thread could be made (nothing is
 * left to stop then). p must be zeroed. */
int ek_poller_start(ek_poller *p, void *(*run)(void *), void *arg);
/* Sleeps ms (none when ms <= 0) unless stopped first; returns whether the poller is stopped. */
bool ek_poller_nap(ek_poller *p, int64_t ms);
/* Whether ek_poller_stop was called: the thread's loop condition. */
static inline bool ek_poller_stopped(ek_poller *p) { return ek_poller_nap(p, 0); }
/* Tells the thread to stop, wakes it from its nap and joins it; a no-op when it never started. */
void ek_poller_stop(ek_poller *p);

#endif
