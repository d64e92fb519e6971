/* The connector registry (see connector.h): built-in types from a const table, plus types that
 * plugins register at start. Registration happens before rules run; lookups take a read lock so
 * a plugin registered later through REST is still safe. */
#include "connectors/builtin.h"
#include "connectors/connector.h"
#include "connectors/memory.h"
#include "engine/mem.h"

#include <pthread.h>
#include <stddef.h>
#include <strings.h>

#define MAX_EXTRA 64

/* Built-in types: each connector file exports its ops; add it here, sources and sinks apart. */
static const void *const builtin_sources[] = {
    &ek_memory_source_ops,
    &ek_mqtt_source_ops,
    &ek_httppull_source_ops,
    &ek_httppush_source_ops,
    &ek_file_source_ops,
    &ek_sqlite_source_ops,
    &ek_sql_source_ops,
    NULL,
};
static const void *const builtin_sinks[] = {
    &ek_memory_sink_ops,
    &ek_log_sink_ops,
    &ek_mqtt_sink_ops,
    &ek_rest_sink_ops,
    &ek_file_sink_ops,
    &ek_sqlite_sink_ops,
    &ek_sql_sink_ops,
    NULL,
};

/* Sources and sinks are kept alike: a kind holds ek_source_ops or ek_sink_ops, both of which
 * start with their type name, so one lookup and one registration serve both. */
typedef struct kind {
    const char *word;                /* "source" or "sink", for messages */
    const void *const *builtin;      /* NULL-terminated */
    const void *extra[MAX_EXTRA];    /* registered by plugins, under lock */
    int n_extra;
} kind;

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static kind source_kind = {.word = "source", .builtin = builtin_sources};
static kind sink_kind = {.word = "sink", .builtin = builtin_sinks};

_Static_assert(offsetof(ek_source_ops, type) == 0, "type_of reads the first member");
_Static_assert(offsetof(ek_sink_ops, type) == 0, "type_of reads the first member");
static const char *type_of(const void *ops) { return *(const char *const *)ops; }

static const void *find(kind *k, const char *type)
{
    for (size_t i = 0; k->builtin[i]; i++)
        if (strcasecmp(type_of(k->builtin[i]), type) == 0) return k->builtin[i];
    const void *found = NULL;
    pthread_rwlock_rdlock(&lock);
    for (int i = 0; i < k->n_extra && !found; i++)
        if (strcasecmp(type_of(k->extra[i]), type) == 0) found = k->extra[i];
    pthread_rwlock_unlock(&lock);
    return found;
}

static int add(kind *k, const void *ops, ek_err *err)
{
    if (find(k, type_of(ops))) return ek_err_set(err, EK_EEXIST, "%s type %s already exists", k->word, type_of(ops));
    pthread_rwlock_wrlock(&lock);
    int rc = 0;
    if (k->n_extra == MAX_EXTRA) rc = ek_err_set(err, EK_ENOMEM, "too many %s types", k->word);
    else k->extra[k->n_extra++] = ops;
    pthread_rwlock_unlock(&lock);
    return rc;
}

const ek_source_ops *ek_connector_source(const char *type) { return find(&source_kind, type); }

const ek_sink_ops *ek_connector_sink(const char *type) { return find(&sink_kind, type); }

int ek_connector_register_source(const ek_source_ops *ops, ek_err *err) { return add(&source_kind, ops, err); }

int ek_connector_register_sink(const ek_sink_ops *ops, ek_err *err) { return add(&sink_kind, ops, err); }

void ek_connector_foreach(int sinks, void (*fn)(const char *type, void *arg), void *arg)
{
    kind *k = sinks ? &sink_kind : &source_kind;
    for (size_t i = 0; k->builtin[i]; i++) fn(type_of(k->builtin[i]), arg);
    pthread_rwlock_rdlock(&lock);
    for (int i = 0; i < k->n_extra; i++) fn(type_of(k->extra[i]), arg);
    pthread_rwlock_unlock(&lock);
}
