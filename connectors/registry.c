/* The connector registry (see connector.h): built-in types from a const table, plus types that
 * plugins register at start. Registration happens before rules run; lookups take a read lock so
 * a plugin registered later through REST is still safe. */
#include "connectors/builtin.h"
#include "connectors/connector.h"
#include "connectors/memory.h"
#include "engine/mem.h"

#include <pthread.h>
#include <strings.h>

#define MAX_EXTRA 64

/* Built-in types: each connector file exports its ops; add it here. */
static const ek_source_ops *const builtin_sources[] = {
    &ek_memory_source_ops,
    &ek_mqtt_source_ops,
    &ek_httppull_source_ops,
    &ek_httppush_source_ops,
    &ek_file_source_ops,
    &ek_sqlite_source_ops,
    &ek_sql_source_ops,
    NULL,
};
static const ek_sink_ops *const builtin_sinks[] = {
    &ek_memory_sink_ops,
    &ek_log_sink_ops,
    &ek_mqtt_sink_ops,
    &ek_rest_sink_ops,
    &ek_file_sink_ops,
    &ek_sqlite_sink_ops,
    &ek_sql_sink_ops,
    NULL,
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static const ek_source_ops *extra_sources[MAX_EXTRA];
static const ek_sink_ops *extra_sinks[MAX_EXTRA];
static int n_extra_sources, n_extra_sinks;

const ek_source_ops *ek_connector_source(const char *type)
{
    for (size_t i = 0; builtin_sources[i]; i++)
        if (strcasecmp(builtin_sources[i]->type, type) == 0) return builtin_sources[i];
    const ek_source_ops *found = NULL;
    pthread_rwlock_rdlock(&lock);
    for (int i = 0; i < n_extra_sources && !found; i++)
        if (strcasecmp(extra_sources[i]->type, type) == 0) found = extra_sources[i];
    pthread_rwlock_unlock(&lock);
    return found;
}

const ek_sink_ops *ek_connector_sink(const char *type)
{
    for (size_t i = 0; builtin_sinks[i]; i++)
        if (strcasecmp(builtin_sinks[i]->type, type) == 0) return builtin_sinks[i];
    const ek_sink_ops *found = NULL;
    pthread_rwlock_rdlock(&lock);
    for (int i = 0; i < n_extra_sinks && !found; i++)
        if (strcasecmp(extra_sinks[i]->type, type) == 0) found = extra_sinks[i];
    pthread_rwlock_unlock(&lock);
    return found;
}

int ek_connector_register_source(const ek_source_ops *ops, ek_err *err)
{
    if (ek_connector_source(ops->type)) return ek_err_set(err, EK_EEXIST, "source type %s already exists", ops->type);
    pthread_rwlock_wrlock(&lock);
    int rc = 0;
    if (n_extra_sources == MAX_EXTRA) rc = ek_err_set(err, EK_ENOMEM, "too many source types");
    else extra_sources[n_extra_sources++] = ops;
    pthread_rwlock_unlock(&lock);
    return rc;
}

int ek_connector_register_sink(const ek_sink_ops *ops, ek_err *err)
{
    if (ek_connector_sink(ops->type)) return ek_err_set(err, EK_EEXIST, "sink type %s already exists", ops->type);
    pthread_rwlock_wrlock(&lock);
    int rc = 0;
    if (n_extra_sinks == MAX_EXTRA) rc = ek_err_set(err, EK_ENOMEM, "too many sink types");
    else extra_sinks[n_extra_sinks++] = ops;
    pthread_rwlock_unlock(&lock);
    return rc;
}

void ek_connector_foreach(int sinks, void (*fn)(const char *type, void *arg), void *arg)
{
    if (sinks) {
        for (size_t i = 0; builtin_sinks[i]; i++) fn(builtin_sinks[i]->type, arg);
    } else {
        for (size_t i = 0; builtin_sources[i]; i++) fn(builtin_sources[i]->type, arg);
    }
    pthread_rwlock_rdlock(&lock);
    int n = sinks ? n_extra_sinks : n_extra_sources;
    for (int i = 0; i < n; i++) fn(sinks ? extra_sinks[i]->type : extra_sources[i]->type, arg);
    pthread_rwlock_unlock(&lock);
}
