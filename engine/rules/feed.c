/* Feeds: one source instance per stream, shared by every running rule that reads the stream.
 *
 * The first rule that needs a stream opens its source connector (TYPE, default mqtt) with the
 * stream's DATASOURCE and its settings (etc/mqtt_source.yaml or etc/sources/<type>.yaml: the
 * `default` section merged with CONF_KEY); the last one to leave closes it. A message is decoded
 * once (JSON; every number a float on a schemaless stream, converted and checked against the
 * schema otherwise, DEFAULTs applied under STRICT_VALIDATION) into a refcounted row that every
 * subscribed rule's mailbox receives (a QoS >= 1 rule's mail with a reference to the publisher's
 * held acknowledgement, engine/ack.h). Undecodable data reaches each rule as an error mail, so it
 * is counted in that rule's source metrics and the rules keep running.
 * A scan table's feed keeps its latest RETAIN_SIZE rows instead of posting them; a lookup table's
 * feed (KIND="lookup", KEY) keeps the latest row per key value, and the join reads either.
 * Locks: r->lock guards the engine's list of feeds and each feed's refs (one per subscription);
 * f->lock guards the subscriber list and the retained rows. Ingest may come from any thread and
 * never takes the engine lock. A source's open and close can block (a connection, an
 * unsubscribe that waits for a message being handed over to a full mailbox), so they run with
 * no lock held: nothing a source thread or a worker might need is held while they wait. */
#include "engine/codec_json.h"
#include "engine/config.h"
#include "engine/log.h"
#include "engine/confkeys.h"
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct feed_sub {
    rules__run *run;
    int src;
} feed_sub;

struct rules__feed {
    ek_rules *eng;
    char *name;
    bool table;
    size_t refs;                /* subscriptions, counted under r->lock: the last one closes the feed */
    ek_stmt *stmt;              /* a private parse of the CREATE statement */
    bool strict, binary;
    const ek_source_ops *ops;
    void *st;
    ek_value props;
    pthread_mutex_t lock;
    feed_sub *subs;
    size_t nsubs, cap;
    ek_row **retain;            /* scan table: ring of the latest rows */
    size_t retain_size, retain_len, retain_head;
    char *lookup_key;           /* lookup table: KEY; the latest row per key value */
    bool queried;               /* lookup table whose source answers queries (ops->lookup) */
    rules__sched sched;         /* post_row's actors to queue at once (guarded by lock) */
    ek_row **keyed;
    size_t nkeyed, keyed_cap;
};

/* Lookup table: replaces the row with the same key value, or adds it; caller holds f->lock. */
static void put_keyed(rules__feed *f, ek_row *row)
{
    const ek_value *k = ek_row_get(row, f->lookup_key);
    if (!k) return;
    for (size_t i = 0; i < f->nkeyed; i++) {
        const ek_value *o = ek_row_get(f->keyed[i], f->lookup_key);
        if (o && ek_value_compare(o, k) == 0) {
            ek_row_unref(f->keyed[i]);
            f->keyed[i] = ek_row_ref(row);
            return;
        }
    }
    if (f->nkeyed == f->keyed_cap) {
        f->keyed_cap = f->keyed_cap ? f->keyed_cap * 2 : 16;
        f->keyed = ek_realloc(f->keyed, f->keyed_cap * sizeof *f->keyed);
    }
    f->keyed[f->nkeyed++] = ek_row_ref(row);
}

static bool is_true(const char *s) { return s && strcasecmp(s, "true") == 0; }

/* The properties a source opens with: etc/ files, environment and REST-set conf keys merged
 * (engine/confkeys.h), the `default` key overlaid with the stream's CONF_KEY. */
static ek_value source_props(ek_rules *r, const char *type, const char *conf_key)
{
    return ek_confkeys_props(r->app, EK_CONF_SOURCE, type, conf_key);
}

/* Converts one value to a column type; false when it cannot be. */
static bool convert(const ek_sql_type *t, ek_value *v)
{
    switch (t->kind) {
    case EK_T_FLOAT:
        if (v->type == EK_T_INT) *v = ek_float((double)v->i);
        return v->type == EK_T_FLOAT;
    case EK_T_INT:
        if (v->type == EK_T_FLOAT && v->f == (double)(int64_t)v->f) *v = ek_int((int64_t)v->f);
        return v->type == EK_T_INT;
    case EK_T_DATETIME:
        return v->type == EK_T_INT || v->type == EK_T_FLOAT || v->type == EK_T_STRING || v->type == EK_T_DATETIME;
    case EK_T_BYTES:
        return v->type == EK_T_STRING || v->type == EK_T_BYTES;
    default:
        return v->type == t->kind;
    }
}

/* Shapes one decoded object by the stream's schema into *out (a new object). */
static int shape(rules__feed *f, ek_value *in, ek_value *out, ek_err *err)
{
    const ek_create_stmt *c = &f->stmt->create;
    if (in->type != EK_T_OBJECT) return ek_err_set(err, EK_ETYPE, "expected a JSON object, got %s", ek_type_name(in->type));
    if (c->schemaless) {
        *out = ek_value_ref(in);
        return 0;
    }
    ek_value o = ek_object_new(c->ncols);
    for (size_t i = 0; i < c->ncols; i++) {
        const ek_col_def *col = &c->cols[i];
        const ek_value *got = ek_object_get(in, col->name);
        if (!got || got->type == EK_T_NULL) {
            if (f->strict && col->has_default) ek_object_set(&o, col->name, ek_value_ref(&col->def));
            continue;
        }
        ek_value v = ek_value_ref(got);
        if (!convert(&col->type, &v) && f->strict) {
            ek_buf b = EK_BUF_INIT;
            ek_sql_type_print(&col->type, &b);
            ek_err_set(err, EK_ETYPE, "field %s type mismatch: expected %s, got %s", col->name, b.data ? b.data : "",
                       ek_type_name(v.type));
            ek_buf_free(&b);
            ek_value_unref(&v);
            ek_value_unref(&o);
            return EK_ETYPE;
        }
        ek_object_set(&o, col->name, v);
    }
    *out = o;
    return 0;
}

static void post_error(rules__feed *f, const char *msg)
{
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nsubs; i++) {
        rules__mail m = {.kind = MAIL_ERROR, .src = f->subs[i].src, .err = ek_strdup(msg)};
        rules__actor_post(f->eng, &f->subs[i].run->actor, &m);
    }
    pthread_mutex_unlock(&f->lock);
}

/* Posts row to every subscribed rule; a QoS >= 1 rule also gets a reference to ack. */
static void post_row(rules__feed *f, ek_row *row, ek_ack *ack)
{
    pthread_mutex_lock(&f->lock);
    if (f->lookup_key) put_keyed(f, row);
    else if (f->retain_size) {
        size_t slot = (f->retain_head + f->retain_len) % f->retain_size;
        if (f->retain_len == f->retain_size) {
            ek_row_unref(f->retain[f->retain_head]);
            f->retain_head = (f->retain_head + 1) % f->retain_size;
            slot = (f->retain_head + f->retain_len - 1) % f->retain_size;
        } else {
            f->retain_len++;
        }
        f->retain[slot] = ek_row_ref(row);
    }
    /* Many rules on one stream: the runnable ones join the run queue together at the end. */
    for (size_t i = 0; i < f->nsubs && !f->table; i++) {
        rules__run *run = f->subs[i].run;
        rules__mail m = {.kind = MAIL_ROW, .src = f->subs[i].src, .row = ek_row_ref(row),
                         .ack = run->opts.qos >= 1 ? ek_ack_ref(ack) : NULL};
        if (rules__actor_post_to(f->eng, &run->actor, &m, &f->sched) == 1)
            ek_log_rule(EK_LOG_WARN, f->subs[i].run->id, "buffer full, dropped the oldest message");
    }
    rules__sched_flush(f->eng, &f->sched);
    pthread_mutex_unlock(&f->lock);
}

/* Shapes and posts one message (an object or an array of objects), taking msg and meta; ack
 * (borrowed) goes with each row to the QoS >= 1 rules. */
static void deliver(rules__feed *f, ek_value msg, ek_value meta, ek_ack *ack)
{
    ek_err err = {0};
    size_t n = msg.type == EK_T_ARRAY ? ek_array_len(&msg) : 1;
    int64_t now = rules__now(f->eng);
    for (size_t i = 0; i < n; i++) {
        ek_value *one = msg.type == EK_T_ARRAY ? (ek_value *)ek_array_get(&msg, i) : &msg;
        ek_value shaped;
        if (shape(f, one, &shaped, &err) != 0) {
            post_error(f, err.msg);
            continue;
        }
        ek_row *row = ek_row_new(shaped, ek_value_ref(&meta), now, f->name);
        post_row(f, row, ack);
        ek_row_unref(row);
    }
    ek_value_unref(&msg);
    ek_value_unref(&meta);
}

static void on_payload_held(void *ctx, const void *data, size_t len, ek_value meta, ek_ack *ack)
{
    rules__feed *f = ctx;
    if (f->binary) {
        ek_value o = ek_object_new(1);
        ek_object_set(&o, "self", ek_bytes(data, len));
        deliver(f, o, meta, ack);
        return;
    }
    ek_value v;
    ek_err err = {0};
    int flags = f->stmt->create.schemaless ? EK_JSON_FLOAT_NUMBERS : 0;
    if (ek_json_decode(data, len, flags, &v, &err) != 0) {
        char msg[EK_ERR_MSG_MAX + 32];
        snprintf(msg, sizeof msg, "payload is not valid JSON: %s", err.msg);
        post_error(f, msg);
        ek_value_unref(&meta);
        return;
    }
    deliver(f, v, meta, ack);
}

static void on_payload(void *ctx, const void *data, size_t len, ek_value meta)
{
    on_payload_held(ctx, data, len, meta, NULL);
}

static void on_value(void *ctx, ek_value msg, ek_value meta)
{
    deliver(ctx, msg, meta, NULL);
}

static void on_status(void *ctx, int connected, const char *msg)
{
    rules__feed *f = ctx;
    int64_t now = ek_now_ms();
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nsubs; i++) {
        rules__metrics *m = &f->subs[i].run->src_m[f->subs[i].src];
        atomic_store(&m->conn_status, connected ? 1 : -1);
        atomic_store(&m->conn_last_try, now);
        if (connected) {
            atomic_store(&m->conn_last_connected, now);
        } else {
            atomic_store(&m->conn_last_disconnected, now);
            pthread_mutex_lock(&m->lock);
            snprintf(m->conn_last_msg, sizeof m->conn_last_msg, "%s", msg ? msg : "");
            pthread_mutex_unlock(&m->lock);
        }
    }
    pthread_mutex_unlock(&f->lock);
}

static void feed_free(rules__feed *f)
{
    if (f->ops && f->st) f->ops->close(f->st);
    ek_free(f->st);
    for (size_t i = 0; i < f->retain_len; i++) ek_row_unref(f->retain[(f->retain_head + i) % f->retain_size]);
    ek_free(f->retain);
    for (size_t i = 0; i < f->nkeyed; i++) ek_row_unref(f->keyed[i]);
    ek_free(f->keyed);
    ek_free(f->lookup_key);
    ek_free(f->subs);
    ek_free(f->sched.v);
    ek_value_unref(&f->props);
    ek_stmt_free(f->stmt);
    ek_free(f->name);
    pthread_mutex_destroy(&f->lock);
    ek_free(f);
}

static const char *prop(const rules__feed *f, ek_stream_prop p) { return f->stmt->create.props[p]; }

/* Opens a feed from the CREATE statement text of a stream or table; no lock held (the source's
 * open may block). */
static int feed_open(ek_rules *r, const char *name, bool table, const char *sql, rules__feed **out, ek_err *err)
{
    ek_stmt *stmt = NULL;
    int rc = ek_sql_parse_n(sql, strlen(sql), &stmt, err);
    if (rc) return rc;
    const char *type = stmt->create.props[EK_PROP_TYPE];
    if (!type) type = "mqtt";
    const ek_source_ops *ops = ek_connector_source(type);
    if (!ops) {
        ek_stmt_free(stmt);
        return ek_err_set(err, EK_EPLAN, "source type %s of %s %s is not available", type, table ? "table" : "stream",
                          name);
    }
    rules__feed *f = ek_calloc(1, sizeof *f);
    pthread_mutex_init(&f->lock, NULL);
    f->eng = r;
    f->name = ek_strdup(name);
    f->table = table;
    f->stmt = stmt;
    f->strict = is_true(prop(f, EK_PROP_STRICT_VALIDATION));
    const char *fmt = prop(f, EK_PROP_FORMAT);
    f->binary = fmt && strcasecmp(fmt, "binary") == 0;
    const char *kind = prop(f, EK_PROP_KIND);
    if (table && kind && strcasecmp(kind, "lookup") == 0 && ops->lookup) {
        f->queried = true;  /* the source answers each lookup itself (sqlite) */
    } else if (table && kind && strcasecmp(kind, "lookup") == 0) {
        const char *key = prop(f, EK_PROP_KEY);
        if (!key) {
            feed_free(f);
            return ek_err_set(err, EK_EPLAN, "lookup table %s needs the KEY property", name);
        }
        f->lookup_key = ek_strdup(key);
    } else if (table) {
        const char *rs = prop(f, EK_PROP_RETAIN_SIZE);
        f->retain_size = rs ? (size_t)strtoul(rs, NULL, 10) : 1;
        if (f->retain_size == 0) f->retain_size = 1;
        f->retain = ek_calloc(f->retain_size, sizeof *f->retain);
    }
    f->props = source_props(r, type, prop(f, EK_PROP_CONF_KEY));
    f->ops = ops;
    f->st = ek_calloc(1, ops->state_size ? ops->state_size : 1);
    const char *ds = prop(f, EK_PROP_DATASOURCE);
    ek_source_conf conf = {.app = r->app, .stream = f->name, .datasource = ds ? ds : f->name, .props = &f->props};
    ek_ingest ing = {.ctx = f, .payload = on_payload, .value = on_value, .status = on_status,
                     .payload_held = on_payload_held};
    if (ops->open(f->st, &conf, &ing, err) != 0) {
        ek_err_prefix(err, "%s %s", table ? "table" : "stream", name);
        ek_free(f->st);
        f->st = NULL;
        feed_free(f);
        return err->code ? err->code : EK_EIO;
    }
    *out = f;
    return 0;
}

/* The feed of a stream or table with one more reference, or NULL; caller holds r->lock. */
static rules__feed *feed_find_ref(ek_rules *r, const char *name, bool table)
{
    for (size_t i = 0; i < r->nfeeds; i++) {
        rules__feed *f = r->feeds[i];
        if (f->table == table && strcmp(f->name, name) == 0) {
            f->refs++;
            return f;
        }
    }
    return NULL;
}

/* A referenced feed: the shared one, or a new one opened with no lock held. */
static int feed_get(ek_rules *r, const char *name, bool table, const char *sql, rules__feed **out, ek_err *err)
{
    pthread_mutex_lock(&r->lock);
    rules__feed *f = feed_find_ref(r, name, table);
    pthread_mutex_unlock(&r->lock);
    if (f) {
        *out = f;
        return 0;
    }
    rules__feed *fresh = NULL;
    int rc = feed_open(r, name, table, sql, &fresh, err);
    if (rc) return rc;
    pthread_mutex_lock(&r->lock);
    f = feed_find_ref(r, name, table);  /* opened by someone else meanwhile: share theirs */
    if (!f) {
        if (r->nfeeds == r->feeds_cap) {
            r->feeds_cap = r->feeds_cap ? r->feeds_cap * 2 : 8;
            r->feeds = ek_realloc(r->feeds, r->feeds_cap * sizeof *r->feeds);
        }
        fresh->refs = 1;
        r->feeds[r->nfeeds++] = f = fresh;
        fresh = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    if (fresh) feed_free(fresh);
    *out = f;
    return 0;
}

int rules__feed_sub(ek_rules *r, const char *name, bool table, const char *sql, rules__run *run, int src,
                    rules__feed **out, ek_err *err)
{
    rules__feed *f = NULL;
    int rc = feed_get(r, name, table, sql, &f, err);
    if (rc) return rc;
    pthread_mutex_lock(&f->lock);
    if (f->nsubs == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 4;
        f->subs = ek_realloc(f->subs, f->cap * sizeof *f->subs);
    }
    f->subs[f->nsubs++] = (feed_sub){run, src};
    pthread_mutex_unlock(&f->lock);
    *out = f;
    return 0;
}

void rules__feed_unsub(ek_rules *r, rules__feed *f, rules__run *run, int src)
{
    /* May wait while a source thread hands a message to a full mailbox: the subscribed run's
     * actor is still open, so its worker makes room. */
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nsubs; i++) {
        if (f->subs[i].run != run || f->subs[i].src != src) continue;
        f->subs[i] = f->subs[--f->nsubs];
        break;
    }
    pthread_mutex_unlock(&f->lock);
    pthread_mutex_lock(&r->lock);
    bool last = --f->refs == 0;
    for (size_t i = 0; last && i < r->nfeeds; i++) {
        if (r->feeds[i] != f) continue;
        r->feeds[i] = r->feeds[--r->nfeeds];
        break;
    }
    pthread_mutex_unlock(&r->lock);
    if (last) feed_free(f);  /* the source's close, with no lock held */
}

int rules__feed_lookup(rules__feed *f, const ek_value *keys, ek_row ***rows, size_t *n, ek_err *err)
{
    if (!f->queried) return 1;
    ek_value found = ek_null();
    pthread_mutex_lock(&f->lock);  /* one query at a time on the source's connection */
    int rc = f->ops->lookup(f->st, keys, &found, err);
    pthread_mutex_unlock(&f->lock);
    if (rc) return rc;
    size_t len = found.type == EK_T_ARRAY ? ek_array_len(&found) : 0;
    *rows = ek_calloc(len ? len : 1, sizeof **rows);
    *n = 0;
    for (size_t i = 0; i < len; i++) {
        ek_value shaped;
        ek_err e = {0};
        if (shape(f, (ek_value *)ek_array_get(&found, i), &shaped, &e) != 0) continue;
        (*rows)[(*n)++] = ek_row_new(shaped, ek_null(), 0, f->name);
    }
    ek_value_unref(&found);
    return 0;
}

size_t rules__feed_table_rows(rules__feed *f, ek_row ***rows)
{
    pthread_mutex_lock(&f->lock);
    size_t n = f->lookup_key ? f->nkeyed : f->retain_len;
    *rows = ek_calloc(n ? n : 1, sizeof **rows);
    for (size_t i = 0; i < n; i++)
        (*rows)[i] = ek_row_ref(f->lookup_key ? f->keyed[i] : f->retain[(f->retain_head + i) % f->retain_size]);
    pthread_mutex_unlock(&f->lock);
    return n;
}

void rules__feeds_free(ek_rules *r)
{
    for (size_t i = 0; i < r->nfeeds; i++) feed_free(r->feeds[i]);
    ek_free(r->feeds);
    r->feeds = NULL;
    r->nfeeds = r->feeds_cap = 0;
}
