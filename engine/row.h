/* ek_row: one message flowing through a rule.
 * Fields are an ek_value object (in schema order for a stream with a schema, so the binder can
 * resolve a field to a slot index), plus metadata: the emitter (stream name), the timestamp used
 * for windows (event time or arrival time, in ms) and source metadata (topic, qos, messageId ...)
 * that SQL reads with meta(). Rows are reference-counted and immutable once emitted: one decoded
 * message is shared by every rule on a stream, and windows hold references, not copies. */
#ifndef EK_ROW_H
#define EK_ROW_H

#include "engine/value.h"

#include <stdatomic.h>
#include <stdint.h>

typedef struct ek_row {
    atomic_int refs;
    ek_value msg;   /* EK_T_OBJECT: the fields */
    ek_value meta;  /* EK_T_OBJECT or null: source metadata */
    int64_t ts;     /* ms since epoch: event time if the stream has one, else arrival time */
    ek_str *emitter;/* stream or table name, or NULL */
} ek_row;

/* A new row with refs 1, taking msg (must be an object) and meta (object or null). */
ek_row *ek_row_new(ek_value msg, ek_value meta, int64_t ts, const char *emitter);
ek_row *ek_row_ref(ek_row *r);
void ek_row_unref(ek_row *r);  /* accepts NULL */
/* Borrowed field value, or NULL when absent. */
static inline const ek_value *ek_row_get(const ek_row *r, const char *name) { return ek_object_get(&r->msg, name); }
static inline const char *ek_row_emitter(const ek_row *r) { return r->emitter ? r->emitter->data : ""; }

#endif
