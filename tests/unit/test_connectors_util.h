/* Helpers for the connector tests: free loopback ports (test_net_util.h), a Mosquitto broker
 * started on one with a temporary configuration (and always stopped), a sink opened by type with
 * JSON properties, and an ek_ingest that collects what a source delivers so a test can wait for
 * it with a timeout. Header-only: each test file is its own executable. */
#ifndef EK_TEST_CONNECTORS_UTIL_H
#define EK_TEST_CONNECTORS_UTIL_H

#include "connectors/connector.h"
#include "engine/app.h"
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "tests/unit/test_net_util.h"
#include "tests/unit/test_util.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs /usr/sbin/mosquitto with the configuration file conf and waits (at most 10 s: a loaded
 * machine can be slow to start it again) for it to listen on 127.0.0.1:port; returns its pid (0 on failure). Mosquitto dies with the test process:
 * a failed _FATAL assertion skips tc_mosquitto_stop, and a Mosquitto left running would keep
 * ctest's output pipe open until the test's timeout. */
static inline pid_t tc_mosquitto_run(const char *conf, int port)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && !tc_port_open(port); i++) tc_sleep_ms(20);
    return tc_port_open(port) ? pid : 0;
}

/* Starts /usr/sbin/mosquitto on 127.0.0.1:port; returns its pid (0 on failure). */
static inline pid_t tc_mosquitto_start(int port)
{
    char dir[] = "/tmp/ek-mosq-XXXXXX";
    if (!ek_test_mkdtemp(dir)) return 0;
    char conf[128];
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", dir);
    FILE *f = fopen(conf, "w");
    if (!f) return 0;
    fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n", port);
    fclose(f);
    pid_t pid = tc_mosquitto_run(conf, port);
    unlink(conf);
    rmdir(dir);
    return pid;
}

static inline void tc_mosquitto_stop(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* The value of a JSON text the test wrote (a bad one fails the test). */
static inline ek_value tc_json(const char *s)
{
    ek_value v = ek_null();
    CU_ASSERT_EQUAL_FATAL(ek_json_decode(s, strlen(s), 0, &v, NULL), 0);
    return v;
}

/* ---- a sink opened by type ---- */

typedef struct tc_sink {
    const ek_sink_ops *ops;
    void *st;
    ek_value props;
    ek_app app;  /* empty */
    bool open;
} tc_sink;

/* Opens a sink of type for rule "r" with props_json as its properties; returns open's result
 * (err, which may be NULL, says why). tc_sink_close it either way. */
static inline int tc_sink_open(tc_sink *s, const char *type, const char *props_json, ek_err *err)
{
    memset(s, 0, sizeof *s);
    s->ops = ek_connector_sink(type);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s->ops);
    s->st = ek_calloc(1, s->ops->state_size);
    s->props = tc_json(props_json);
    ek_sink_conf conf = {.app = &s->app, .rule_id = "r", .props = &s->props};
    int rc = s->ops->open(s->st, &conf, err);
    s->open = rc == 0;
    return rc;
}

/* Hands the sink one message: value_json as its value, payload as its bytes. */
static inline int tc_sink_collect(tc_sink *s, const char *value_json, const char *payload, size_t len, ek_err *err)
{
    ek_value v = tc_json(value_json);
    ek_sink_data d = {.value = &v, .payload = payload, .len = len};
    int rc = s->ops->collect(s->st, &d, err);
    ek_value_unref(&v);
    return rc;
}

/* Hands the sink a JSON message, its text as the payload. */
static inline int tc_sink_send_json(tc_sink *s, const char *json, ek_err *err)
{
    return tc_sink_collect(s, json, json, strlen(json), err);
}

static inline void tc_sink_close(tc_sink *s)
{
    if (s->open) s->ops->close(s->st);
    ek_free(s->st);
    ek_value_unref(&s->props);
    memset(s, 0, sizeof *s);
}

/* ---- an ek_ingest that records what arrives ---- */

#define TC_MAX_MSGS 512

typedef struct tc_collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
    char *payload[TC_MAX_MSGS];
    ek_value meta[TC_MAX_MSGS];
    int ups, downs;
    int last_status;
} tc_collector;

static inline void tc_on_payload(void *ctx, const void *data, size_t len, ek_value meta)
{
    tc_collector *c = ctx;
    pthread_mutex_lock(&c->mu);
    if (c->n < TC_MAX_MSGS) {
        c->payload[c->n] = ek_strndup(data, len);
        c->meta[c->n++] = meta;
    } else {
        ek_value_unref(&meta);
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static inline void tc_on_status(void *ctx, int connected, const char *msg)
{
    tc_collector *c = ctx;
    pthread_mutex_lock(&c->mu);
    if (connected) c->ups++;
    else c->downs++;
    c->last_status = connected;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static inline void tc_collector_init(tc_collector *c, ek_ingest *in)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    *in = (ek_ingest){.ctx = c, .payload = tc_on_payload, .status = tc_on_status};
}

static inline void tc_collector_free(tc_collector *c)
{
    for (int i = 0; i < c->n; i++) {
        ek_free(c->payload[i]);
        ek_value_unref(&c->meta[i]);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

/* Waits until pred holds (checked under the lock) or timeout_ms passes; returns pred. */
static inline int tc_wait(tc_collector *c, int (*pred)(tc_collector *, int), int arg, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) dl.tv_sec++, dl.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&c->mu);
    int ok;
    while (!(ok = pred(c, arg)))
        if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) != 0) {
            ok = pred(c, arg);
            break;
        }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static inline int tc_has_n(tc_collector *c, int n) { return c->n >= n; }
static inline int tc_is_up(tc_collector *c, int up) { return c->last_status == up && (up ? c->ups : c->downs) > 0; }

#endif
