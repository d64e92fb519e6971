/* The watermark and window operators.
 *
 * Watermark (event time only): takes each row's event time from its stream's TIMESTAMP field,
 * keeps rows sorted until the watermark (largest timestamp seen, the minimum over the rule's
 * streams, minus lateTolerance) passes them, then releases them in time order and tells the next
 * operator the watermark moved (rules__emit_tick). A row older than the watermark is late: it is
 * dropped and counted in the node's exceptions.
 *
 * Window: one operator for every window kind. Time reaches it the same way in both time modes:
 * on_tick(now) from the timer in processing time, from the watermark in event time, so a window
 * fires when time passes its end and never otherwise. Windows are aligned to natural time (a 10 s
 * window ends at :10, :20 ...) on the wall clock of basic.timezone (a day window ends at midnight
 * there); in event time the first window starts at the first event.
 * Tumbling, hopping and session windows contain [start, end); sliding windows [t - length, t], or
 * [t - length, t + delay) with a delay.
 * Count windows count rows; state windows open and emit on conditions, per PARTITION BY key.
 * FILTER (WHERE ...) is applied here to the window's input. An empty firing is emitted as an
 * empty window batch (the sinks decide about omitIfEmpty).
 * Invariant: items are in time order (arrival order in processing time, released order in event
 * time) and each holds one row reference. */
#include "engine/config.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/rules/rules_int.h"
#include "sql/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct witem {
    ek_row *row;
    int src;
} witem;

typedef struct items {
    witem *v;
    size_t n, cap;
} items;

static void items_push(items *it, ek_row *row, int src)
{
    if (it->n == it->cap) {
        it->cap = it->cap ? it->cap * 2 : 16;
        it->v = ek_realloc(it->v, it->cap * sizeof *it->v);
    }
    it->v[it->n++] = (witem){ek_row_ref(row), src};
}

/* Drops the first k items. */
static void items_drop(items *it, size_t k)
{
    if (k == 0) return;
    for (size_t i = 0; i < k; i++) ek_row_unref(it->v[i].row);
    memmove(it->v, it->v + k, (it->n - k) * sizeof *it->v);
    it->n -= k;
}

static void items_free(items *it)
{
    items_drop(it, it->n);
    ek_free(it->v);
    memset(it, 0, sizeof *it);
}

static int64_t align_up(int64_t ts, int64_t len)
{
    int64_t q = ts / len;
    if (ts < 0 && ts % len) q--;
    return (q + 1) * len;
}

static int64_t local_offset_ms(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return (int64_t)tm.tm_gmtoff * 1000;
}

/* ------------------------------------------------------------------ watermark */

typedef struct wm_st {
    rules__run *run;
    items buf;                  /* sorted by ts */
    int64_t *max_ts;            /* per source, INT64_MIN until seen */
    int64_t wm;
} wm_st;

static int wm_open(void *st, rules__run *run, ek_err *err)
{
    wm_st *s = st;
    s->run = run;
    s->max_ts = ek_calloc(run->nsrc, sizeof *s->max_ts);
    for (size_t i = 0; i < run->nsrc; i++) s->max_ts[i] = INT64_MIN;
    s->wm = INT64_MIN;
    return 0;
}

/* Parses "2006-01-02T15:04:05[.000][Z|+07:00]" (or a space instead of T) into ms since the epoch. */
static bool parse_time(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n == 0) return false;
    const char *p = s + n;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3) ms = ms * 10 + (*p - '0');
        for (; digits < 3; digits++) ms *= 10;
    }
    int64_t off = 0;
    if (*p == '+' || *p == '-') {
        int oh = 0, om = 0;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) return false;
        off = (*p == '+' ? 1 : -1) * ((int64_t)oh * 3600 + om * 60);
    } else if (*p && *p != 'Z' && *p != 'z') {
        return false;
    }
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    *out = ((int64_t)timegm(&tm) - off) * 1000 + ms;
    return true;
}

static int event_ts(wm_st *s, const ek_row *row, int src, int64_t *out, ek_err *err)
{
    const char *field = s->run->src_stmts[src]->create.props[EK_PROP_TIMESTAMP];
    const ek_value *v = field ? ek_row_get(row, field) : NULL;
    double d;
    if (v && v->type == EK_T_DATETIME) {
        *out = v->t / 1000000;
        return 0;
    }
    if (v && ek_value_as_double(v, &d)) {
        *out = (int64_t)d;
        return 0;
    }
    if (v && v->type == EK_T_STRING) {
        char *end;
        long long ms = strtoll(ek_str_ptr(v), &end, 10);
        if (*end == '\0' && end != ek_str_ptr(v)) {
            *out = ms;
            return 0;
        }
        if (parse_time(ek_str_ptr(v), out)) return 0;
    }
    return ek_err_set(err, EK_EEXEC, "cannot read the event time from field %s", field ? field : "(none)");
}

static int wm_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    wm_st *s = st;
    ek_row *row = in->rows[0];
    int64_t ts = 0;
    int rc = event_ts(s, row, in->src, &ts, err);
    if (rc) return rc;
    if (ts < s->wm) return ek_err_set(err, EK_EEXEC, "late event dropped: timestamp %lld is before the watermark %lld",
                                      (long long)ts, (long long)s->wm);
    ek_row *copy = ek_row_new(ek_value_ref(&row->msg), ek_value_ref(&row->meta), ts, ek_row_emitter(row));
    size_t pos = s->buf.n;
    while (pos > 0 && s->buf.v[pos - 1].row->ts > ts) pos--;
    items_push(&s->buf, copy, in->src);
    ek_row_unref(copy);
    witem it = s->buf.v[s->buf.n - 1];
    memmove(&s->buf.v[pos + 1], &s->buf.v[pos], (s->buf.n - 1 - pos) * sizeof it);
    s->buf.v[pos] = it;
    if (ts > s->max_ts[in->src]) s->max_ts[in->src] = ts;

    /* The watermark is the smallest of the streams' largest timestamps: until every stream of a
     * join has sent something it cannot move (as in eKuiper). It only releases rows when it moves. */
    int64_t low = INT64_MAX;
    for (size_t i = 0; i < s->run->nsrc; i++) {
        if (s->run->subs[i].table) continue;
        if (s->max_ts[i] == INT64_MIN) return 0;
        if (s->max_ts[i] < low) low = s->max_ts[i];
    }
    int64_t wm = low - s->run->opts.late_tolerance;
    if (wm <= s->wm) return 0;
    s->wm = wm;
    size_t k = 0;
    for (; k < s->buf.n && s->buf.v[k].row->ts <= wm; k++) {
        rules__batch b;
        rules__batch_init(&b, 1);
        b.src = s->buf.v[k].src;
        rules__batch_push(&b, &s->buf.v[k].row);
        rules__emit(emit, &b);
        rules__batch_free(&b);
    }
    items_drop(&s->buf, k);
    rules__emit_tick(emit, wm);
    return 0;
}

static ek_value items_save(const items *it)
{
    ek_value a = ek_array_new(it->n);
    for (size_t i = 0; i < it->n; i++) ek_array_push(&a, rules__row_save(it->v[i].row, it->v[i].src));
    return a;
}

static void items_load(items *it, const ek_value *a)
{
    for (size_t i = 0; a && a->type == EK_T_ARRAY && i < ek_array_len(a); i++) {
        int src = 0;
        ek_row *row = rules__row_load(ek_array_get(a, i), &src);
        if (!row) continue;
        items_push(it, row, src);
        ek_row_unref(row);
    }
}

static int64_t get_int(const ek_value *o, const char *key, int64_t dflt)
{
    const ek_value *v = ek_object_get(o, key);
    return v && v->type == EK_T_INT ? v->i : dflt;
}

static int wm_snapshot(void *st, ek_value *out)
{
    wm_st *s = st;
    *out = ek_object_new(3);
    ek_object_set(out, "buf", items_save(&s->buf));
    ek_object_set(out, "wm", ek_int(s->wm));
    ek_value max = ek_array_new(s->run->nsrc);
    for (size_t i = 0; i < s->run->nsrc; i++) ek_array_push(&max, ek_int(s->max_ts[i]));
    ek_object_set(out, "max", max);
    return 0;
}

static int wm_restore(void *st, const ek_value *in, ek_err *err)
{
    wm_st *s = st;
    items_load(&s->buf, ek_object_get(in, "buf"));
    s->wm = get_int(in, "wm", INT64_MIN);
    const ek_value *max = ek_object_get(in, "max");
    for (size_t i = 0; max && max->type == EK_T_ARRAY && i < ek_array_len(max) && i < s->run->nsrc; i++)
        if (ek_array_get(max, i)->type == EK_T_INT) s->max_ts[i] = ek_array_get(max, i)->i;
    return 0;
}

static void wm_close(void *st)
{
    wm_st *s = st;
    items_free(&s->buf);
    ek_free(s->max_ts);
}

const ek_op_ops rules__op_watermark = {
    .name = "watermark",
    .state_size = sizeof(wm_st),
    .open = wm_open,
    .on_row = wm_row,
    .snapshot = wm_snapshot,
    .restore = wm_restore,
    .close = wm_close,
};

/* ------------------------------------------------------------------ window */

typedef struct win_st {
    rules__run *run;
    const ek_window *w;
    bool event_time;
    items it;
    bool started;
    int64_t start, next_end;    /* tumbling, hopping; session start */
    int64_t last;               /* session: last event */
    int64_t total;              /* count window: events seen */
    int64_t *pend;              /* sliding: trigger times waiting for their delay */
    size_t npend, pcap;
    struct spart *parts;        /* state window: one per PARTITION BY key */
    size_t nparts;
    const ek_tz *tz;            /* basic.timezone, for alignment; NULL: tz_off */
    ek_tz *own_tz;              /* tz when this window opened it itself (the engine had none) */
    int64_t tz_off;             /* the process's local offset when the zone database has no Local */
} win_st;

/* The next window boundary after ts on the wall clock of basic.timezone: a day window ends at
 * midnight there, an hour window on its hour (the zone's offset at ts, so daylight saving counts). */
static int64_t align_local(int64_t ts, int64_t len, const win_st *s)
{
    int64_t off = s->tz ? ek_tz_offset_ms(s->tz, ts) : s->tz_off;
    return align_up(ts + off, len) - off;
}

/* basic.timezone: "Local" (default), "UTC" or an IANA name; the engine's zone when it has one
 * (PATCH /configs may have changed it), else opened here from the configuration. */
static int open_zone(win_st *s, const ek_config *cfg, ek_err *err)
{
    if ((s->tz = rules__tz(s->run->eng)) != NULL) return 0;
    const char *name = cfg ? ek_config_str(cfg, "basic.timezone") : NULL;
    if (!name || !*name) name = "Local";
    ek_err e = {0};
    if (ek_tz_open(name, &s->own_tz, &e) == 0) {
        s->tz = s->own_tz;
        return 0;
    }
    if (strcmp(name, "Local") == 0) {  /* no /etc/localtime: the C library's idea of local time */
        s->tz_off = local_offset_ms();
        return 0;
    }
    return ek_err_set(err, EK_EPLAN, "basic.timezone: %s", e.msg);
}

int rules__window_zone(rules__run *run, const ek_config *cfg, const ek_tz **tz, ek_tz **own, int64_t *off,
                       ek_err *err)
{
    win_st s = {.run = run};
    int rc = open_zone(&s, cfg, err);
    *tz = s.tz;
    *own = s.own_tz;
    *off = s.tz_off;
    return rc;
}

void rules__window_zone_free(ek_tz *tz) { ek_tz_free(tz); }

int64_t rules__window_align(const ek_tz *tz, int64_t off, int64_t ts, int64_t len)
{
    win_st s = {.tz = (ek_tz *)tz, .tz_off = off};
    return align_local(ts, len, &s);
}

typedef struct spart {
    ek_value key;
    items it;
    bool open;
} spart;

static int win_open(void *st, rules__run *run, ek_err *err)
{
    win_st *s = st;
    s->run = run;
    s->w = run->stmt->select.window;
    s->event_time = run->opts.event_time;
    if (s->w->kind != EK_WIN_COUNT && s->w->kind != EK_WIN_STATE && s->w->length <= 0)
        return ek_err_set(err, EK_EPLAN, "%s: the length must be positive", ek_window_kind_name(s->w->kind));
    return open_zone(s, run->eng->app->config, err);
}

/* Emits the items with from <= ts < to (to_incl: ts <= to) as one window firing [ws, we]. */
static void fire(win_st *s, rules__out *emit, int64_t from, int64_t to, bool to_incl, int64_t ws, int64_t we)
{
    rules__batch b;
    rules__batch_init(&b, 1);
    b.window = true;
    b.wstart = ws;
    b.wend = we;
    for (size_t i = 0; i < s->it.n; i++) {
        int64_t ts = s->it.v[i].row->ts;
        if (ts >= from && (to_incl ? ts <= to : ts < to)) rules__batch_push(&b, &s->it.v[i].row);
    }
    rules__emit(emit, &b);
    rules__batch_free(&b);
}

/* Drops items older than ts. */
static void purge_before(win_st *s, int64_t ts)
{
    size_t k = 0;
    while (k < s->it.n && s->it.v[k].row->ts < ts) k++;
    items_drop(&s->it, k);
}

static bool passes_filter(win_st *s, rules__batch *in, ek_err *err, int *rc)
{
    *rc = 0;
    if (!s->run->prog->win_filter) return true;
    const ek_row *rows[8] = {0};
    size_t n = s->run->nsrc < 8 ? s->run->nsrc : 8;
    rows[in->src < 8 ? in->src : 0] = in->rows[0];
    ek_eval_ctx c = {.rows = rows, .nrows = n, .rule_id = s->run->id, .rule_start_ms = s->run->start_ms,
                     .tz = rules__tz(s->run->eng)};
    bool keep = false;
    *rc = ek_cexpr_eval_bool(s->run->prog->win_filter, &c, &keep, err);
    return *rc == 0 && keep;
}

/* Session: the open session ends after `timeout` without events (once time is strictly past
 * last + timeout) or at a max-duration boundary, the first aligned multiple of the maximum
 * duration that lies a whole duration after the session's start (eKuiper's rule). *end gets the
 * window end when the session is due at time now. */
static int64_t session_cut(const win_st *s)
{
    /* Event time: the boundary must lie strictly more than a duration after the start; processing
     * time cuts at the first boundary at least a duration after it (as eKuiper's ticker does). */
    int64_t len = s->w->length;
    return align_local(s->start + len - (s->event_time ? 0 : 1), len, s);
}

static bool session_due(const win_st *s, int64_t now, int64_t *end)
{
    int64_t to = s->last + s->w->interval;
    int64_t cut = session_cut(s);
    *end = cut <= to ? cut : to;
    return cut <= to ? now >= cut : now > to;
}

/* When a processing-time session next needs a tick. */
static int64_t session_wake(const win_st *s)
{
    int64_t to = s->last + s->w->interval + 1;
    int64_t cut = session_cut(s);
    return cut < to ? cut : to;
}

static int64_t win_tick(void *st, int64_t now, rules__out *emit, ek_err *err);

static void slide_pend(win_st *s, int64_t t)
{
    if (s->npend == s->pcap) {
        s->pcap = s->pcap ? s->pcap * 2 : 8;
        s->pend = ek_realloc(s->pend, s->pcap * sizeof *s->pend);
    }
    s->pend[s->npend++] = t;
}

static spart *state_part(win_st *s, ek_eval_ctx *c, int *rc, ek_err *err)
{
    ek_value key = ek_array_new(s->run->prog->nwin_partition);
    for (size_t i = 0; i < s->run->prog->nwin_partition; i++) {
        ek_value v;
        if ((*rc = ek_cexpr_eval(s->run->prog->win_partition[i], c, &v, err)) != 0) {
            ek_value_unref(&key);
            return NULL;
        }
        ek_array_push(&key, v);
    }
    for (size_t i = 0; i < s->nparts; i++) {
        if (ek_value_compare(&s->parts[i].key, &key) == 0) {
            ek_value_unref(&key);
            return &s->parts[i];
        }
    }
    s->parts = ek_realloc(s->parts, (s->nparts + 1) * sizeof *s->parts);
    spart *p = &s->parts[s->nparts++];
    memset(p, 0, sizeof *p);
    p->key = key;
    return p;
}

static void fire_items(win_st *s, rules__out *emit, items *it)
{
    rules__batch b;
    rules__batch_init(&b, 1);
    b.window = true;
    b.wstart = it->n ? it->v[0].row->ts : 0;
    b.wend = it->n ? it->v[it->n - 1].row->ts : 0;
    for (size_t i = 0; i < it->n; i++) rules__batch_push(&b, &it->v[i].row);
    rules__emit(emit, &b);
    rules__batch_free(&b);
    items_drop(it, it->n);
}

/* STATEWINDOW(begin, emit): opens when begin holds, emits (this row included) when emit holds.
 * STATEWINDOW(cond): a true cond emits what was collected and starts again with this row. */
static int state_row(win_st *s, rules__batch *in, rules__out *emit, ek_err *err)
{
    ek_sql_program *p = s->run->prog;
    ek_eval_ctx c = rules__ctx(s->run, in, 0);
    int rc = 0;
    spart *part = state_part(s, &c, &rc, err);
    if (!part) return rc;
    bool begin = false, end = false;
    if ((rc = ek_cexpr_eval_bool(p->state_begin, &c, &begin, err)) != 0) return rc;
    if (!p->state_emit) {
        if (begin && part->open) fire_items(s, emit, &part->it);
        if (begin) part->open = true;
        if (part->open) items_push(&part->it, in->rows[0], in->src);
        return 0;
    }
    if (!part->open && begin) part->open = true;
    if (!part->open) return 0;
    items_push(&part->it, in->rows[0], in->src);
    if ((rc = ek_cexpr_eval_bool(p->state_emit, &c, &end, err)) != 0) return rc;
    if (end) {
        fire_items(s, emit, &part->it);
        part->open = false;
    }
    return 0;
}

static int win_row(void *st, rules__batch *in, rules__out *emit, ek_err *err)
{
    win_st *s = st;
    int rc;
    if (!passes_filter(s, in, err, &rc)) return rc;
    ek_row *row = in->rows[0];
    int64_t ts = row->ts;
    const ek_window *w = s->w;
    switch (w->kind) {
    case EK_WIN_TUMBLING:
    case EK_WIN_HOPPING:
        if (!s->started && s->event_time) {
            s->started = true;
            s->start = ts;
            s->next_end = align_local(ts, w->kind == EK_WIN_HOPPING ? w->interval : w->length, s);
        }
        items_push(&s->it, row, in->src);
        return 0;
    case EK_WIN_SESSION:; /* a declaration may not follow a label in C11 */
        int64_t end;
        if (s->started && session_due(s, ts, &end)) win_tick(st, ts, emit, err);
        if (!s->started) {
            s->started = true;
            s->start = ts;
        }
        s->last = ts;
        items_push(&s->it, row, in->src);
        if (!s->event_time) rules__timer_set(s->run->eng, s->run, session_wake(s));
        return 0;
    case EK_WIN_SLIDING: {
        items_push(&s->it, row, in->src);
        bool trig = true;
        if (s->run->prog->win_trigger) {
            ek_eval_ctx c = rules__ctx(s->run, in, 0);
            if ((rc = ek_cexpr_eval_bool(s->run->prog->win_trigger, &c, &trig, err)) != 0) return rc;
        }
        if (trig && w->delay <= 0) fire(s, emit, ts - w->length, ts, true, ts - w->length, ts);
        else if (trig) slide_pend(s, ts);
        if (s->npend == 0) purge_before(s, ts - w->length);
        else if (!s->event_time) rules__timer_set(s->run->eng, s->run, s->pend[0] + w->delay);
        return 0;
    }
    case EK_WIN_COUNT: {
        items_push(&s->it, row, in->src);
        s->total++;
        int64_t n = w->length, m = w->interval > 0 ? w->interval : w->length;
        if ((int64_t)s->it.n > n) items_drop(&s->it, s->it.n - (size_t)n);
        if (s->total % m == 0 && (int64_t)s->it.n >= n) {
            /* eKuiper's count window bounds are the wall clock at the firing, start and end alike. */
            int64_t now = rules__now(s->run->eng);
            fire(s, emit, INT64_MIN, INT64_MAX, true, now, now);
            if (w->interval <= 0) items_drop(&s->it, s->it.n);
        }
        return 0;
    }
    case EK_WIN_STATE:
        return state_row(s, in, emit, err);
    default:
        return ek_err_set(err, EK_EPLAN, "unsupported window");
    }
}

static int64_t tick_tumbling(win_st *s, int64_t now, rules__out *emit)
{
    const ek_window *w = s->w;
    int64_t step = w->kind == EK_WIN_HOPPING ? w->interval : w->length;
    if (!s->started) {
        if (s->event_time) return INT64_MAX;
        s->started = true;
        s->next_end = align_local(now, step, s);
        s->start = s->next_end - w->length;
        return s->next_end;
    }
    for (int guard = 0; s->next_end <= now; guard++) {
        /* A long quiet gap in event time: skip the empty windows in between. */
        if (guard > 1000 && (s->it.n == 0 || s->it.v[0].row->ts >= s->next_end + w->length)) {
            int64_t to = s->it.n ? s->it.v[0].row->ts : now;
            s->next_end = align_local(to, step, s);
            if (s->next_end > now) break;
        }
        int64_t ws = w->kind == EK_WIN_HOPPING ? s->next_end - w->length : s->start;
        fire(s, emit, ws, s->next_end, false, ws, s->next_end);
        s->start = s->next_end;
        s->next_end += step;
        purge_before(s, w->kind == EK_WIN_HOPPING ? s->next_end - w->length : s->start);
    }
    return s->event_time ? INT64_MAX : s->next_end;
}

static int64_t win_tick(void *st, int64_t now, rules__out *emit, ek_err *err)
{
    win_st *s = st;
    const ek_window *w = s->w;
    switch (w->kind) {
    case EK_WIN_TUMBLING:
    case EK_WIN_HOPPING:
        return tick_tumbling(s, now, emit);
    case EK_WIN_SESSION:; /* a declaration may not follow a label in C11 */
        int64_t end;
        while (s->started && session_due(s, now, &end)) {
            bool cut = end == session_cut(s);
            fire(s, emit, INT64_MIN, end, false, s->start, end);
            purge_before(s, end);
            s->started = s->it.n > 0;
            /* A session cut at a max-duration boundary goes on from that boundary; after a
             * timeout the next session starts with its first event. */
            if (s->started) s->start = cut ? end : s->it.v[0].row->ts;
        }
        return s->started && !s->event_time ? session_wake(s) : INT64_MAX;
    case EK_WIN_SLIDING: {
        size_t k = 0;
        for (; k < s->npend && s->pend[k] + w->delay <= now; k++) {
            int64_t t = s->pend[k];
            fire(s, emit, t - w->length, t + w->delay, false, t - w->length, t + w->delay);
        }
        if (k) memmove(s->pend, s->pend + k, (s->npend - k) * sizeof *s->pend);
        s->npend -= k;
        if (s->npend) purge_before(s, s->pend[0] - w->length);
        return s->npend && !s->event_time ? s->pend[0] + w->delay : INT64_MAX;
    }
    default:
        return INT64_MAX;
    }
}

static int win_snapshot(void *st, ek_value *out)
{
    win_st *s = st;
    *out = ek_object_new(7);
    ek_object_set(out, "items", items_save(&s->it));
    ek_object_set(out, "started", ek_bool(s->started));
    ek_object_set(out, "start", ek_int(s->start));
    ek_object_set(out, "next_end", ek_int(s->next_end));
    ek_object_set(out, "last", ek_int(s->last));
    ek_object_set(out, "total", ek_int(s->total));
    ek_value pend = ek_array_new(s->npend);
    for (size_t i = 0; i < s->npend; i++) ek_array_push(&pend, ek_int(s->pend[i]));
    ek_object_set(out, "pend", pend);
    return 0;
}

static int win_restore(void *st, const ek_value *in, ek_err *err)
{
    win_st *s = st;
    items_load(&s->it, ek_object_get(in, "items"));
    const ek_value *started = ek_object_get(in, "started");
    s->started = started && started->type == EK_T_BOOL && started->b;
    s->start = get_int(in, "start", 0);
    s->next_end = get_int(in, "next_end", 0);
    s->last = get_int(in, "last", 0);
    s->total = get_int(in, "total", 0);
    const ek_value *pend = ek_object_get(in, "pend");
    for (size_t i = 0; pend && pend->type == EK_T_ARRAY && i < ek_array_len(pend); i++)
        if (ek_array_get(pend, i)->type == EK_T_INT) slide_pend(s, ek_array_get(pend, i)->i);
    return 0;
}

static void win_close(void *st)
{
    win_st *s = st;
    items_free(&s->it);
    ek_free(s->pend);
    for (size_t i = 0; i < s->nparts; i++) {
        items_free(&s->parts[i].it);
        ek_value_unref(&s->parts[i].key);
    }
    ek_free(s->parts);
    ek_tz_free(s->own_tz);
}

const ek_op_ops rules__op_window = {
    .name = "window",
    .state_size = sizeof(win_st),
    .open = win_open,
    .on_row = win_row,
    .on_tick = win_tick,
    .snapshot = win_snapshot,
    .restore = win_restore,
    .close = win_close,
};
