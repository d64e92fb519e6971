/* Per-node metrics with eKuiper's names, and the batch helpers every operator uses.
 * A node (source, operator or sink) counts records in and out, processing latency, exceptions
 * and, for connectors, connection state; the status object prints each as
 * "<node>_<metric>" (source_demo_0_records_in_total, op_2_project_0_process_latency_us,
 * sink_log_0_0_records_out_total). Counters are written by the rule's worker and read by REST,
 * hence atomics; the two strings are behind a small mutex. */
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void rules__metrics_init(rules__metrics *m, const char *name, bool connection)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->connection = connection;
    if (connection) atomic_store(&m->conn_status, 1);
}

void rules__metrics_destroy(rules__metrics *m)
{
    pthread_mutex_destroy(&m->lock);
}

void rules__metrics_exception(rules__metrics *m, const char *msg)
{
    atomic_fetch_add(&m->exceptions, 1);
    atomic_store(&m->last_exc_time, ek_now_ms());
    pthread_mutex_lock(&m->lock);
    snprintf(m->last_exc, sizeof m->last_exc, "%s", msg);
    pthread_mutex_unlock(&m->lock);
}

static void put_int(ek_value *obj, const char *node, const char *metric, int64_t v)
{
    char key[160];
    snprintf(key, sizeof key, "%s_%s", node, metric);
    ek_object_set(obj, key, ek_int(v));
}

static void put_str(ek_value *obj, const char *node, const char *metric, const char *v)
{
    char key[160];
    snprintf(key, sizeof key, "%s_%s", node, metric);
    ek_object_set(obj, key, ek_string(v));
}

/* eKuiper prints time metrics as Go time strings; we print RFC 3339 UTC or "" when never set. */
static void put_time(ek_value *obj, const char *node, const char *metric, int64_t ms)
{
    char buf[64] = "";
    if (ms > 0) {
        time_t s = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    }
    put_str(obj, node, metric, buf);
}

void rules__metrics_put(rules__metrics *m, ek_value *obj)
{
    const char *n = m->name;
    put_int(obj, n, "records_in_total", atomic_load(&m->in));
    put_int(obj, n, "records_out_total", atomic_load(&m->out));
    put_int(obj, n, "messages_processed_total", atomic_load(&m->processed));
    put_int(obj, n, "process_latency_us", atomic_load(&m->latency_us));
    put_int(obj, n, "buffer_length", atomic_load(&m->buffer_len));
    put_time(obj, n, "last_invocation", atomic_load(&m->last_invocation));
    put_int(obj, n, "exceptions_total", atomic_load(&m->exceptions));
    pthread_mutex_lock(&m->lock);
    put_str(obj, n, "last_exception", m->last_exc);
    pthread_mutex_unlock(&m->lock);
    put_time(obj, n, "last_exception_time", atomic_load(&m->last_exc_time));
    if (m->cache) put_int(obj, n, "cache_dropped_total", atomic_load(&m->cache_dropped));
    if (!m->connection) return;
    put_int(obj, n, "connection_status", atomic_load(&m->conn_status));
    put_time(obj, n, "connection_last_connected_time", atomic_load(&m->conn_last_connected));
    put_time(obj, n, "connection_last_disconnected_time", atomic_load(&m->conn_last_disconnected));
    pthread_mutex_lock(&m->lock);
    put_str(obj, n, "connection_last_disconnected_message", m->conn_last_msg);
    pthread_mutex_unlock(&m->lock);
    put_time(obj, n, "connection_last_try_time", atomic_load(&m->conn_last_try));
}

/* ------------------------------------------------------------------ batches */

int64_t rules__coarse_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rules__mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void rules__batch_init(rules__batch *b, size_t width)
{
    memset(b, 0, sizeof *b);
    b->width = width ? width : 1;
}

void rules__batch_push(rules__batch *b, ek_row *const *rows)
{
    if ((b->ntuples + 1) * b->width > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8 * b->width;
        while (b->cap < (b->ntuples + 1) * b->width) b->cap *= 2;
        b->rows = ek_realloc(b->rows, b->cap * sizeof *b->rows);
    }
    for (size_t i = 0; i < b->width; i++)
        b->rows[b->ntuples * b->width + i] = rows[i] ? ek_row_ref(rows[i]) : NULL;
    b->ntuples++;
}

void rules__batch_free(rules__batch *b)
{
    for (size_t i = 0; i < b->ntuples * b->width; i++) ek_row_unref(b->rows[i]);
    ek_free(b->rows);
    ek_free(b->groups);
    ek_value_unref(&b->out);
    memset(b, 0, sizeof *b);
}
