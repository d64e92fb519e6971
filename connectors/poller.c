/* The polling sources' stoppable thread (poller.h): naps are timed waits on a condition that
 * ek_poller_stop broadcasts, so a source closes at once whatever its interval. */
#include "connectors/poller.h"
#include "engine/app.h"

#include <time.h>

int ek_poller_start(ek_poller *p, void *(*run)(void *), void *arg)
{
    pthread_mutex_init(&p->mu, NULL);
    ek_cond_init_monotonic(&p->cv); /* a nap is not stretched by a wall-clock jump (NTP at boot) */
    if (pthread_create(&p->thread, NULL, run, arg) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        return -1;
    }
    p->started = true;
    return 0;
}

bool ek_poller_nap(ek_poller *p, int64_t ms)
{
    pthread_mutex_lock(&p->mu);
    if (ms > 0 && !p->stop) {
        struct timespec ts = ek_deadline_in(CLOCK_MONOTONIC, ms);
        while (!p->stop && pthread_cond_timedwait(&p->cv, &p->mu, &ts) == 0) {
        }
    }
    bool stop = p->stop;
    pthread_mutex_unlock(&p->mu);
    return stop;
}

void ek_poller_stop(ek_poller *p)
{
    if (!p->started) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    p->started = false;
}
