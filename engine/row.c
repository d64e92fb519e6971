/* ek_row implementation (see row.h). */
#include "engine/row.h"
#include "engine/mem.h"

#include <assert.h>
#include <string.h>

ek_row *ek_row_new(ek_value msg, ek_value meta, int64_t ts, const char *emitter)
{
    assert(msg.type == EK_T_OBJECT);
    ek_row *r = ek_malloc(sizeof *r);
    atomic_init(&r->refs, 1);
    r->msg = msg;
    r->meta = meta;
    r->ts = ts;
    r->emitter = NULL;
    if (emitter) {
        ek_value e = ek_string(emitter);
        r->emitter = e.s;
    }
    return r;
}

ek_row *ek_row_ref(ek_row *r)
{
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    return r;
}

void ek_row_unref(ek_row *r)
{
    if (!r || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1) return;
    ek_value_unref(&r->msg);
    ek_value_unref(&r->meta);
    if (r->emitter) {
        ek_value e = ek_string_take(r->emitter);
        ek_value_unref(&e);
    }
    ek_free(r);
}
