/* Password checks off the reactor thread. A PBKDF2 hash costs milliseconds of CPU by design; done
 * on the reactor, a flood of CONNECTs with wrong passwords would stall every connected client. So
 * auth.c hands each PBKDF2 verification to this one worker thread and the connection waits, not
 * reading (packets a client pipelines after CONNECT stay in the socket and in c->in), until the
 * worker posts the answer back through the reactor's post queue. Bans are looked up again when
 * the answer comes, since one may have been added while the client waited.
 *
 * The thread starts with the first password to verify (broker__check_ready), not with the broker:
 * most brokers never see a PBKDF2 hash, and an idle thread costs its stack and malloc arena.
 *
 * Ownership: a job belongs to the queue, then to the worker, then to the posted callback, which
 * frees it. job->conn is read and written only on the reactor thread; a connection that closes
 * first sets it to NULL (and the atomic cancelled flag, so the worker skips the hashing). */
#include "broker/broker_int.h"
#include "engine/mem.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

typedef struct broker__check {
    broker__conn *conn;          /* reactor thread only; NULL once cancelled */
    atomic_bool cancelled;
    char hash[EK_PASSWD_MAX];
    uint8_t *pw;
    size_t plen;
    bool superuser, known, ok;
    struct broker__check *next;
} check_job;

typedef struct broker__checker {
    pthread_t thr;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    check_job *head, *tail;
    bool stop;
} checker;

static void job_free(check_job *j)
{
    if (j->pw) OPENSSL_cleanse(j->pw, j->plen);
    ek_free(j->pw);
    ek_free(j);
}

/* On the reactor thread: the answer for one connection. */
static void done(ek_broker *b, void *arg)
{
    check_job *j = arg;
    broker__conn *c = j->conn;
    if (c) c->check = NULL;
    if (!c || c->state == CONN_CLOSING || atomic_load(&b->stopping)) {
        job_free(j);
        return;
    }
    c->checking = false;
    bool ok = j->ok;
    c->superuser = j->superuser;
    job_free(j);
    if (!ok) {
        broker__conn_close(c, RC_BAD_USER_PASS);
        return;
    }
    broker__pkt p;
    uint8_t *buf = c->auth_connect;
    c->auth_connect = NULL;
    int rc = broker__pkt_decode(buf, c->auth_connect_len, 0, &p); /* decoded once already */
    c->authed = true;
    /* A ban added while the password was checked did not close this connection (it was not
     * active yet, banned.c), so the ban list is read again before the client is let in. */
    if (!rc) {
        char *cid = ek_strndup((const char *)p.client_id.p, p.client_id.len);
        if (broker__banned(c, cid, &p)) rc = RC_BANNED;
        ek_free(cid);
    }
    if (!rc) rc = broker__connect_accept(c, &p);
    ek_free(buf);
    if (rc) broker__conn_close(c, (uint8_t)rc);
    else broker__conn_resume(c);
}

static void *worker(void *arg)
{
    ek_broker *b = arg;
    checker *k = b->checker;
    pthread_setname_np(pthread_self(), "ek-pwcheck");
    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->head && !k->stop) pthread_cond_wait(&k->cv, &k->mu);
        if (k->stop) break;
        check_job *j = k->head;
        k->head = j->next;
        if (!k->head) k->tail = NULL;
        pthread_mutex_unlock(&k->mu);
        if (!atomic_load(&j->cancelled)) j->ok = ek_passwd_verify(j->hash, j->pw, j->plen) && j->known;
        broker__post(b, done, j);
        pthread_mutex_lock(&k->mu);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

bool broker__check_ready(ek_broker *b)
{
    if (b->checker) return true;
    if (b->checker_failed) return false;
    checker *k = ek_calloc(1, sizeof *k);
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    b->checker = k; /* before the thread starts: it reads it */
    if (pthread_create(&k->thr, NULL, worker, b) != 0) {
        b->checker = NULL;
        pthread_mutex_destroy(&k->mu);
        pthread_cond_destroy(&k->cv);
        ek_free(k);
        b->checker_failed = true; /* checks then run on the reactor thread */
        return false;
    }
    return true;
}

void broker__check_stop(ek_broker *b)
{
    checker *k = b->checker;
    if (!k) return;
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thr, NULL);
    while (k->head) { /* never started: the reactor has stopped, so the connections may be touched */
        check_job *j = k->head;
        k->head = j->next;
        if (j->conn) j->conn->check = NULL;
        job_free(j);
    }
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    ek_free(k);
    b->checker = NULL;
}

void broker__check_start(broker__conn *c, const broker__pkt *p, const char *hash, bool superuser, bool known)
{
    ek_broker *b = c->b;
    check_job *j = ek_calloc(1, sizeof *j);
    j->conn = c;
    atomic_init(&j->cancelled, false);
    snprintf(j->hash, sizeof j->hash, "%s", hash);
    j->plen = p->password.len;
    j->pw = ek_malloc(j->plen + 1);
    if (j->plen) memcpy(j->pw, p->password.p, j->plen);
    j->superuser = superuser;
    j->known = known;
    c->check = j;
    c->checking = true;
    ek_free(c->auth_connect);
    c->auth_connect = ek_malloc(p->wire.len);
    memcpy(c->auth_connect, p->wire.p, p->wire.len);
    c->auth_connect_len = p->wire.len;
    broker__io_mod(b, &c->io, c->want_out ? EPOLLOUT : 0);
    checker *k = b->checker;
    pthread_mutex_lock(&k->mu);
    if (k->tail) k->tail->next = j;
    else k->head = j;
    k->tail = j;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

void broker__check_cancel(broker__conn *c)
{
    if (!c->check) return;
    atomic_store(&c->check->cancelled, true);
    c->check->conn = NULL;
    c->check = NULL;
    c->checking = false;
}
