/* Other SQL functions (eKuiper docs: sqls/functions/other_functions.md and window_functions.md):
 * null handling, identifiers and clocks, the current row's metadata and the rule's context.
 *
 * What each needs from the engine, through ek_func_ctx:
 * - meta(key) / mqtt(key): ctx->row->meta. The compiler passes the key as a string holding the
 *   identifier's text ("topic", "src1.device", "reading.device.name" or "*").
 * - event_time(): ctx->row->ts, or ctx->window_end_ms when called without a row (aggregate).
 * - rule_id(), rule_start(), window_start(), window_end(): the ctx fields of the same names.
 * - row_number(), last_hit_count/time(), last_agg_hit_count/time(): state in ctx->state and, like
 *   the analytic functions, one hidden trailing bool appended by the compiler: for row_number it is
 *   ignored (the engine resets ctx->state for each window and partition); for the hit functions it
 *   says whether this row passed (the WHERE or HAVING holding the call was true), and the compiler
 *   must give every call site of one rule the same ctx->state, since the count is the rule's. */
#include "sql/func_int.h"
#include "engine/mem.h"

#include <openssl/rand.h>
#include <string.h>
#include <time.h>

/* Longest delay() may hold a worker thread. */
#define DELAY_MAX_MS 60000

static int f_isnull(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    *o = ek_bool(a[0].type == EK_T_NULL);
    return 0;
}

static int f_coalesce(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    *o = ek_null();
    for (int i = 0; i < n; i++)
        if (a[i].type != EK_T_NULL) { *o = ek_value_ref(&a[i]); break; }
    return 0;
}

static int f_newuuid(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    unsigned char u[16];
    if (RAND_bytes(u, sizeof u) != 1) return ek_err_set(e, EK_EEXEC, "newuuid: no randomness available");
    u[6] = (unsigned char)((u[6] & 0x0F) | 0x40);  /* version 4 */
    u[8] = (unsigned char)((u[8] & 0x3F) | 0x80);  /* RFC 4122 variant */
    *o = ek_string_fmt("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
                       u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return 0;
}

static int f_tstamp(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *o = ek_int((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    return 0;
}

static int f_rule_id(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    *o = ek_string(c && c->rule_id ? c->rule_id : "");
    return 0;
}

static int f_rule_start(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { *o = ek_int(c ? c->rule_start_ms : 0); return 0; }
static int f_window_start(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { *o = ek_int(c ? c->window_start_ms : 0); return 0; }
static int f_window_end(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { *o = ek_int(c ? c->window_end_ms : 0); return 0; }

static int f_event_time(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    *o = ek_int(c && c->row ? c->row->ts : c ? c->window_end_ms : 0);
    return 0;
}

/* Walks a dotted key through nested objects: "reading.device.name". */
static const ek_value *walk(const ek_value *obj, const char *key)
{
    const ek_value *cur = obj;
    while (cur && cur->type == EK_T_OBJECT) {
        const char *dot = strchr(key, '.');
        size_t len = dot ? (size_t)(dot - key) : strlen(key);
        const ek_value *next = ek_object_get_n(cur, key, len);
        if (!next) {  /* keys may themselves contain dots: try the rest whole */
            next = ek_object_get(cur, key);
            return next;
        }
        if (!dot) return next;
        cur = next;
        key = dot + 1;
    }
    return NULL;
}

static int metadata(const char *fn, ek_func_ctx *c, const ek_value *a, ek_value *o, ek_err *e)
{
    if (a[0].type != EK_T_STRING) return func__type_err(e, fn, 0, "a metadata key", &a[0]);
    *o = ek_null();
    if (!c || !c->row || c->row->meta.type != EK_T_OBJECT) return 0;
    const char *key = ek_str_ptr(&a[0]);
    const ek_value *meta = &c->row->meta;
    if (strcmp(key, "*") == 0) { *o = ek_value_ref(meta); return 0; }
    const ek_value *v = walk(meta, key);
    const char *em = ek_row_emitter(c->row), *dot = strchr(key, '.');
    if (!v && dot && *em && strncmp(key, em, (size_t)(dot - key)) == 0 && em[dot - key] == 0) {
        if (strcmp(dot + 1, "*") == 0) { *o = ek_value_ref(meta); return 0; }
        v = walk(meta, dot + 1);
    }
    if (v) *o = ek_value_ref(v);
    return 0;
}

static int f_meta(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return metadata("meta", c, a, o, e); }
static int f_mqtt(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return metadata("mqtt", c, a, o, e); }

/* delay(ms, value): holds this worker thread for ms (at most DELAY_MAX_MS), then returns value. */
static int f_delay(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int64_t ms;
    if (func__arg_int("delay", a, 0, &ms, e)) return e->code;
    if (ms < 0 || ms > DELAY_MAX_MS) return ek_err_set(e, EK_EINVAL, "delay: the delay must be between 0 and %d ms", DELAY_MAX_MS);
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {}
    *o = ek_value_ref(&a[1]);
    return 0;
}

/* ---- stateful counters ---- */

typedef struct counter {
    int64_t count;
    int64_t time;
} counter;

static counter *counter_of(ek_func_ctx *c)
{
    if (!c->state) {
        c->state = ek_calloc(1, sizeof(counter));
        c->state_free = ek_free;
    }
    return c->state;
}

static int hidden_flag(const char *fn, ek_func_ctx *c, const ek_value *a, int n, bool *flag, ek_err *e)
{
    if (!c) return ek_err_set(e, EK_EINVAL, "%s: needs a function context", fn);
    if (n < 1 || a[n - 1].type != EK_T_BOOL) return ek_err_set(e, EK_EINVAL, "%s: missing the flag the compiler appends", fn);
    *flag = a[n - 1].b;
    return 0;
}

static int f_row_number(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    if (!c) return ek_err_set(e, EK_EINVAL, "row_number: needs a function context");
    *o = ek_int(++counter_of(c)->count);
    return 0;
}

/* Returns the count (or time) before this row; advances it when the row passed. */
static int hit(const char *fn, bool want_time, ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    bool passed = false;
    if (hidden_flag(fn, c, a, n, &passed, e)) return e->code;
    counter *s = counter_of(c);
    *o = ek_int(want_time ? s->time : s->count);
    if (passed) {
        s->count++;
        s->time = c->row ? c->row->ts : c->window_end_ms;
    }
    return 0;
}

static int f_last_hit_count(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return hit("last_hit_count", false, c, a, n, o, e); }
static int f_last_hit_time(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return hit("last_hit_time", true, c, a, n, o, e); }
static int f_last_agg_hit_count(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return hit("last_agg_hit_count", false, c, a, n, o, e); }
static int f_last_agg_hit_time(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return hit("last_agg_hit_time", true, c, a, n, o, e); }

const ek_func_def ek_funcs_other[] = {
    {"coalesce", EK_FUNC_SCALAR, 1, -1, f_coalesce, NULL, true},
    {"delay", EK_FUNC_SCALAR, 2, 2, f_delay, NULL, false},
    {"event_time", EK_FUNC_SCALAR, 0, 0, f_event_time, NULL, false},
    {"isnull", EK_FUNC_SCALAR, 1, 1, f_isnull, NULL, true},
    {"last_agg_hit_count", EK_FUNC_ANALYTIC, 0, 0, f_last_agg_hit_count, NULL, false},
    {"last_agg_hit_time", EK_FUNC_ANALYTIC, 0, 0, f_last_agg_hit_time, NULL, false},
    {"last_hit_count", EK_FUNC_ANALYTIC, 0, 0, f_last_hit_count, NULL, false},
    {"last_hit_time", EK_FUNC_ANALYTIC, 0, 0, f_last_hit_time, NULL, false},
    {"meta", EK_FUNC_SCALAR, 1, 1, f_meta, NULL, false},
    {"mqtt", EK_FUNC_SCALAR, 1, 1, f_mqtt, NULL, false},
    {"newuuid", EK_FUNC_SCALAR, 0, 0, f_newuuid, NULL, false},
    {"row_number", EK_FUNC_ANALYTIC, 0, 0, f_row_number, NULL, false},
    {"rule_id", EK_FUNC_SCALAR, 0, 0, f_rule_id, NULL, false},
    {"rule_start", EK_FUNC_SCALAR, 0, 0, f_rule_start, NULL, false},
    {"tstamp", EK_FUNC_SCALAR, 0, 0, f_tstamp, NULL, false},
    {"window_end", EK_FUNC_SCALAR, 0, 0, f_window_end, NULL, false},
    {"window_start", EK_FUNC_SCALAR, 0, 0, f_window_start, NULL, false},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
