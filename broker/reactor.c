/* The broker's event loop: one thread, one epoll set, non-blocking sockets, a timer heap and an
 * eventfd-backed post queue (DESIGN.md's ek_reactor_post), the only way other threads reach the
 * broker's structures.
 *
 * One iteration: wait for events (until the next timer), run the handlers, run due timers, run
 * posted work, then flush every connection that produced output in this iteration with one write
 * each (coalescing all packets generated for it), and finally free the connections closed
 * meanwhile. Posting writes the eventfd only when the queue was empty, so a burst of in-process
 * publishes costs one wake-up, not one syscall each. */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* ---- timers: a binary min-heap of armed timers, each knowing its index ---- */

static void heap_swap(ek_broker *b, size_t i, size_t j)
{
    broker__timer *t = b->heap[i];
    b->heap[i] = b->heap[j];
    b->heap[j] = t;
    b->heap[i]->idx = i;
    b->heap[j]->idx = j;
}

static void heap_up(ek_broker *b, size_t i)
{
    while (i > 0 && b->heap[(i - 1) / 2]->at > b->heap[i]->at) {
        heap_swap(b, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(ek_broker *b, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < b->nheap && b->heap[l]->at < b->heap[m]->at) m = l;
        if (r < b->nheap && b->heap[r]->at < b->heap[m]->at) m = r;
        if (m == i) return;
        heap_swap(b, i, m);
        i = m;
    }
}

void broker__timer_cancel(ek_broker *b, broker__timer *t)
{
    if (!t->fn || t->idx == SIZE_MAX || t->idx >= b->nheap || b->heap[t->idx] != t) return;
    size_t i = t->idx;
    t->idx = SIZE_MAX;
    b->nheap--;
    if (i == b->nheap) return;
    b->heap[i] = b->heap[b->nheap];
    b->heap[i]->idx = i;
    heap_up(b, i);
    heap_down(b, b->heap[i]->idx);
}

void broker__timer_arm(ek_broker *b, broker__timer *t, int64_t at)
{
    broker__timer_cancel(b, t);
    if (b->nheap == b->capheap) {
        b->capheap = b->capheap ? b->capheap * 2 : 64;
        b->heap = ek_realloc(b->heap, b->capheap * sizeof *b->heap);
    }
    t->at = at;
    t->idx = b->nheap;
    b->heap[b->nheap++] = t;
    heap_up(b, t->idx);
}

static void run_timers(ek_broker *b)
{
    int64_t now = ek_mono_ms();
    while (b->nheap && b->heap[0]->at <= now) {
        broker__timer *t = b->heap[0];
        broker__timer_cancel(b, t);
        t->fn(b, t->arg);
    }
}

/* ---- post queue ---- */

void broker__post(ek_broker *b, broker__post_fn fn, void *arg)
{
    broker__post_item *it = ek_malloc(sizeof *it);
    it->fn = fn;
    it->arg = arg;
    it->next = NULL;
    pthread_mutex_lock(&b->post_mu);
    bool was_empty = b->post_head == NULL;
    if (b->post_tail) b->post_tail->next = it;
    else b->post_head = it;
    b->post_tail = it;
    pthread_mutex_unlock(&b->post_mu);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t n = write(b->evfd, &one, sizeof one);
        (void)n;
    }
}

void broker__reactor_drain(ek_broker *b)
{
    pthread_mutex_lock(&b->post_mu);
    broker__post_item *it = b->post_head;
    b->post_head = b->post_tail = NULL;
    pthread_mutex_unlock(&b->post_mu);
    while (it) {
        broker__post_item *next = it->next;
        it->fn(b, it->arg);
        ek_free(it);
        it = next;
    }
}

static void on_wake(broker__io *io, uint32_t events)
{
    uint64_t v;
    ssize_t n = read(io->fd, &v, sizeof v);
    (void)n;
}

/* ---- epoll ---- */

int broker__io_add(ek_broker *b, broker__io *io, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = io};
    return epoll_ctl(b->ep, EPOLL_CTL_ADD, io->fd, &ev);
}

void broker__io_mod(ek_broker *b, broker__io *io, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = io};
    epoll_ctl(b->ep, EPOLL_CTL_MOD, io->fd, &ev);
}

void broker__io_del(ek_broker *b, broker__io *io)
{
    epoll_ctl(b->ep, EPOLL_CTL_DEL, io->fd, NULL);
}

int broker__reactor_init(ek_broker *b, ek_err *err)
{
    b->ep = epoll_create1(EPOLL_CLOEXEC);
    b->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (b->ep < 0 || b->evfd < 0) return ek_err_set(err, EK_EIO, "broker: epoll: %s", strerror(errno));
    pthread_mutex_init(&b->post_mu, NULL);
    b->wake.fd = b->evfd;
    b->wake.cb = on_wake;
    broker__io_add(b, &b->wake, EPOLLIN);
    b->rbuf_cap = 64 * 1024;
    b->rbuf = ek_malloc(b->rbuf_cap);
    return 0;
}

void broker__reactor_fini(ek_broker *b)
{
    broker__reactor_drain(b);
    if (b->ep >= 0) close(b->ep);
    if (b->evfd >= 0) close(b->evfd);
    pthread_mutex_destroy(&b->post_mu);
    ek_free(b->heap);
    ek_free(b->rbuf);
}

void broker__reactor_run(ek_broker *b)
{
    struct epoll_event evs[256];
    while (!atomic_load(&b->stopping)) {
        int timeout = -1;
        if (b->nheap) {
            int64_t d = b->heap[0]->at - ek_mono_ms();
            timeout = d < 0 ? 0 : d > 1000 ? 1000 : (int)d;
        }
        int n = epoll_wait(b->ep, evs, 256, timeout);
        for (int i = 0; i < n; i++) {
            broker__io *io = evs[i].data.ptr;
            io->cb(io, evs[i].events);
        }
        run_timers(b);
        broker__reactor_drain(b);
        broker__conn_flush_all(b);
        broker__conn_reap(b);
    }
}
