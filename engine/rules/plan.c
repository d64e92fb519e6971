/* The planner and the run: from a rule's SQL and actions to a chain of operator nodes and sinks.
 *
 *   [watermark] -> [analytic] -> [window] -> [join] -> [filter] -> [aggregate] -> [having] -> [order]
 *   -> project -> sinks
 *
 * Each bracketed stage exists only when the statement needs it (event time, analytic functions, a
 * window, several sources or a table, WHERE, aggregates, HAVING, ORDER BY). WHERE runs on what the window emits;
 * FILTER (WHERE ...) of the window runs inside the window on its input (see the semantics notes).
 * Planning parses, binds and compiles the SQL against private copies of the sources' definitions,
 * opens the operators and the sinks; nothing flows until rules__run_go subscribes the feeds. A run
 * is the rule's actor: mail is handled here on a worker thread, one mail at a time.
 *
 * Checkpoints (end of file): with qos 1 or 2 the stateful operators' snapshots are saved to the
 * store (namespace "checkpoint", key the rule id) every checkpointInterval and restored at start,
 * so after a crash a window resumes with what it held; both happen on the rule's own thread.
 */
#include "engine/codec_json.h"
#include "engine/config.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/rules/plugins.h"
#include "engine/rules/rules_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ node plumbing */

/* Runs node n on batch b, counting (the run's wall_ms is the time of the mail being handled). */
static void node_feed(rules__node *n, rules__batch *b)
{
    rules__m_add(&n->m.in, b->window ? 1 : (long long)b->ntuples);
    rules__m_set(&n->m.last_invocation, n->run->wall_ms);
    bool timed = rules__m_timed(&n->m, b->window);
    int64_t t0 = timed ? rules__mono_us() : 0;
    rules__out out = {n};
    ek_err err;
    err.code = 0;
    err.msg[0] = '\0';
    if (n->ops->on_row(n->st, b, &out, &err) != 0) {
        rules__metrics_exception(&n->m, err.msg);
        rules__send_error(n->run, err.msg);
    }
    rules__m_add(&n->m.processed, 1);
    if (timed) rules__m_set(&n->m.latency_us, rules__mono_us() - t0);
}

void rules__emit(rules__out *o, rules__batch *b)
{
    rules__node *n = o->from;
    rules__m_add(&n->m.out, b->window ? 1 : (long long)b->ntuples);
    if (n->next) node_feed(n->next, b);
    else rules__sinks_collect(n->run, b);
}

/* Delivers a tick to the first node at or after n that takes ticks; returns its next wish. */
static int64_t tick_from(rules__node *n, int64_t t)
{
    for (; n; n = n->next) {
        if (!n->ops->on_tick) continue;
        rules__out out = {n};
        ek_err err = {0};
        int64_t want = n->ops->on_tick(n->st, t, &out, &err);
        if (err.code) rules__metrics_exception(&n->m, err.msg);
        n->want_tick = want;
        return want;
    }
    return INT64_MAX;
}

void rules__emit_tick(rules__out *o, int64_t t)
{
    tick_from(o->from->next, t);
}

/* ------------------------------------------------------------------ planning */

static void add_node(rules__run *run, const ek_op_ops *ops)
{
    run->nodes = ek_realloc(run->nodes, (run->nnodes + 1) * sizeof *run->nodes);
    rules__node *n = &run->nodes[run->nnodes++];
    memset(n, 0, sizeof *n);
    n->ops = ops;
    n->run = run;
    n->want_tick = INT64_MAX;
}

/* Finds each source's definition and parses a private copy; caller holds the engine lock. */
static int resolve_sources(ek_rules *r, rules__run *run, ek_err *err)
{
    const ek_select *sel = &run->stmt->select;
    run->nsrc = sel->nsources;
    run->schemas = ek_calloc(run->nsrc, sizeof *run->schemas);
    run->src_stmts = ek_calloc(run->nsrc, sizeof *run->src_stmts);
    run->src_m = ek_calloc(run->nsrc, sizeof *run->src_m);
    run->subs = ek_calloc(run->nsrc, sizeof *run->subs);
    for (size_t i = 0; i < run->nsrc; i++) {
        char name[96];
        snprintf(name, sizeof name, "source_%s_0", sel->sources[i].name);
        rules__metrics_init(&run->src_m[i], name, true);
    }
    for (size_t i = 0; i < run->nsrc; i++) {
        const ek_source *src = &sel->sources[i];
        rules__stream *s = rules__stream_find(r, src->name, -1);
        if (!s) return ek_err_set(err, EK_ENOTFOUND, "line %d, column %d: stream or table %s is not found",
                                  src->line, src->col, src->name);
        int rc = ek_sql_parse_n(s->sql, strlen(s->sql), &run->src_stmts[i], err);
        if (rc) return rc;
        ek_sql_schema_from_create(&run->src_stmts[i]->create, &run->schemas[i]);
        const char *type = rules__prop(s, EK_PROP_TYPE), *kind = rules__prop(s, EK_PROP_KIND);
        if (!ek_connector_source(type ? type : "mqtt"))
            return ek_err_set(err, EK_EPLAN, "source type %s of %s is not available", type ? type : "mqtt", s->name);
        if (s->table && kind && strcasecmp(kind, "lookup") == 0 && !rules__prop(s, EK_PROP_KEY) &&
            !ek_connector_source(type ? type : "mqtt")->lookup)  /* a queried source needs no KEY */
            return ek_err_set(err, EK_EPLAN, "lookup table %s needs the KEY property", s->name);
        if (run->opts.event_time && !s->table && !rules__prop(s, EK_PROP_TIMESTAMP))
            return ek_err_set(err, EK_EPLAN, "isEventTime needs the TIMESTAMP property of stream %s", s->name);
    }
    return 0;
}

/* Rows are evaluated per group when there are GROUP BY keys or aggregate calls; a window alone
 * (SELECT * ... GROUP BY TUMBLINGWINDOW(...)) emits every row. */
static bool needs_groups(const ek_select *sel)
{
    if (sel->group_by.count) return true;
    for (size_t i = 0; i < sel->nfields; i++)
        if (sel->fields[i].expr->bound.aggregate) return true;
    return sel->having && sel->having->bound.aggregate;
}

/* The ordinary operator chain of a statement. */
static void build_chain(rules__run *run, const ek_sql_program *p, const ek_select *sel)
{
    if (run->opts.event_time) add_node(run, &rules__op_watermark);
    if (p->has_analytic) add_node(run, &rules__op_analytic);
    if (sel->window) add_node(run, &rules__op_window);
    if (run->nsrc > 1) add_node(run, &rules__op_join);
    if (p->where) add_node(run, &rules__op_filter);
    if (needs_groups(sel)) add_node(run, &rules__op_aggregate);
    if (p->having) add_node(run, &rules__op_having);
    if (p->norder) add_node(run, &rules__op_order);
    add_node(run, &rules__op_project);
}

static int build_nodes(rules__run *run, ek_err *err)
{
    const ek_sql_program *p = run->prog;
    const ek_select *sel = &run->stmt->select;
    if (rules__incagg_fits(run)) {
        add_node(run, &rules__op_incagg);  /* window, filter, aggregate and project in one */
    } else {
        build_chain(run, p, sel);
    }
    for (size_t i = 0; i < run->nnodes; i++) {
        rules__node *n = &run->nodes[i];
        n->next = i + 1 < run->nnodes ? &run->nodes[i + 1] : NULL;
        char name[96];
        snprintf(name, sizeof name, "op_%zu_%s_0", run->op_base + i + 2, n->ops->name);
        rules__metrics_init(&n->m, name, false);
        n->st = ek_calloc(1, n->ops->state_size ? n->ops->state_size : 1);
        if (n->ops->open && n->ops->open(n->st, run, err) != 0) {
            n->ops = NULL; /* not opened: not closed */
            return err->code;
        }
    }
    return 0;
}

/* Plans one pipeline: sql_text (NULL: the rule's "sql") with its actions, numbering nodes and sinks
 * from the bases (a graph rule's later parts continue the numbers of the earlier ones). */
static int plan_one(ek_rules *r, const char *id, const ek_value *def, const char *sql_text, const ek_value *actions,
                    rules__run *prev, rules__run **out, ek_err *err)
{
    rules__run *run = ek_calloc(1, sizeof *run);
    run->eng = r;
    run->id = ek_strdup(id);
    run->timer_idx = SIZE_MAX;
    run->start_ms = ek_now_ms();
    if (prev) {
        run->part = prev->part + 1;
        run->op_base = prev->op_base + prev->nnodes;
        run->sink_base = prev->sink_base + prev->nsinks;
    }
    int rc = rules__rule_parse(r, def, &run->opts, err);
    if (rc) goto fail;
    rules__actor_init(&run->actor, (size_t)run->opts.buffer_length);
    run->actor.handle = rules__run_handle;
    run->actor.tick = rules__run_tick;
    if (sql_text) {
        rc = ek_sql_parse_n(sql_text, strlen(sql_text), &run->stmt, err);
    } else {
        const ek_value *sql = ek_object_get(def, "sql");
        rc = ek_sql_parse_n(ek_str_ptr(sql), ek_str_len(sql), &run->stmt, err);
    }
    if (rc) goto fail;
    if (run->stmt->kind != EK_STMT_SELECT) {
        rc = ek_err_set(err, EK_EPARSE, "the rule's sql must be a SELECT statement");
        goto fail;
    }
    pthread_mutex_lock(&r->lock);
    rc = resolve_sources(r, run, err);
    pthread_mutex_unlock(&r->lock);
    if (rc) goto fail;
    ek_bind_opts bo = {.ignore_case = ek_config_bool(r->app->config, "basic.ignoreCase"),
                       .resolve = ek_plugins_resolve}; /* plugin functions (plugins.h) */
    if ((rc = ek_sql_bind(run->stmt, run->schemas, run->nsrc, &bo, err)) != 0) goto fail;
    ek_compile_opts co = {.ignore_case = bo.ignore_case};
    if ((rc = ek_sql_compile(run->stmt, &co, &run->prog, err)) != 0) goto fail;
    if ((rc = build_nodes(run, err)) != 0) goto fail;
    if ((rc = rules__sinks_open(run, actions, err)) != 0) goto fail;
    *out = run;
    return 0;
fail:
    rules__run_free(run);
    return rc ? rc : EK_EPLAN;
}

int rules__plan(ek_rules *r, const char *id, const ek_value *def, rules__run **out, ek_err *err)
{
    const ek_value *sql = ek_object_get(def, "sql");
    const ek_value *graph = ek_object_get(def, "graph");
    *out = NULL;
    if ((sql && sql->type == EK_T_STRING) || !graph || graph->type != EK_T_OBJECT)  /* plan_one's parse reports a missing sql */
        return plan_one(r, id, def, NULL, ek_object_get(def, "actions"), NULL, out, err);
    rules__gpart *parts = NULL;
    size_t nparts = 0;
    int rc = rules__graph_parts(r, graph, &parts, &nparts, err);
    rules__run *last = NULL;
    for (size_t i = 0; i < nparts && rc == 0; i++) {
        ek_log_rule(EK_LOG_DEBUG, id, "graph rule %s part %zu runs as: %s", id, i, parts[i].sql);
        rules__run *run = NULL;
        rc = plan_one(r, id, def, parts[i].sql, &parts[i].actions, last, &run, err);
        if (rc && strncmp(err->msg, "line ", 5) == 0)  /* a position in the SQL the graph became: show it */
            ek_err_prefix(err, "as \"%s\"", parts[i].sql);
        if (rc == 0) {
            if (last) last->part_next = run;
            else *out = run;
            last = run;
        }
    }
    rules__graph_parts_free(parts, nparts);
    if (rc) {
        if (!strstr(err->msg, "graph")) ek_err_prefix(err, "graph rule %s", id);
        rules__run_free(*out);
        *out = NULL;
    }
    return rc;
}

static int go_one(rules__run *run, ek_err *err);

int rules__run_go(rules__run *run, ek_err *err)
{
    int rc = 0;
    for (rules__run *p = run; p && rc == 0; p = p->part_next) rc = go_one(p, err);
    return rc;
}

static int go_one(rules__run *run, ek_err *err)
{
    ek_rules *r = run->eng;
    int64_t now = rules__now(r);
    int64_t want = INT64_MAX;
    rules__checkpoint_restore(run);
    if (run->opts.qos >= 1) {
        run->next_ckpt = now + (run->opts.checkpoint_interval > 0 ? run->opts.checkpoint_interval : 300000);
        want = run->next_ckpt;
    }
    for (size_t i = 0; i < run->nnodes; i++) {
        rules__node *n = &run->nodes[i];
        if (!n->ops || !n->ops->on_tick || run->opts.event_time) continue;
        rules__out o = {n};
        ek_err e = {0};
        n->want_tick = n->ops->on_tick(n->st, now, &o, &e);
        if (n->want_tick < want) want = n->want_tick;
    }
    int64_t sw = rules__sinks_tick(run, now);  /* a sink whose cache holds data from an earlier run */
    if (sw < want) want = sw;
    if (want != INT64_MAX) rules__timer_set(r, run, want);
    /* The sources' definitions are copied under the lock; the feeds are subscribed without it,
     * since opening a source may block. Tables first: once a stream is subscribed its rows may be
     * handled at once, and the join must then find every table's feed in place. */
    char **sqls = ek_calloc(run->nsrc ? run->nsrc : 1, sizeof *sqls);
    int rc = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < run->nsrc && rc == 0; i++) {
        rules__stream *s = rules__stream_find(r, run->stmt->select.sources[i].name, -1);
        if (!s) rc = ek_err_set(err, EK_ENOTFOUND, "stream %s is not found", run->stmt->select.sources[i].name);
        else {
            run->subs[i].table = s->table;
            sqls[i] = ek_strdup(s->sql);
        }
        run->subs[i].src = (int)i;
    }
    pthread_mutex_unlock(&r->lock);
    run->nsubs = run->nsrc;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        for (size_t i = 0; i < run->nsrc && rc == 0; i++) {
            if (run->subs[i].table != (pass == 0)) continue;
            rc = rules__feed_sub(r, run->stmt->select.sources[i].name, run->subs[i].table, sqls[i], run, (int)i,
                                 &run->subs[i].feed, err);
        }
    }
    for (size_t i = 0; i < run->nsrc; i++) ek_free(sqls[i]);
    ek_free(sqls);
    return rc;
}

void rules__run_free(rules__run *run)
{
    if (!run) return;
    rules__run_free(run->part_next);
    ek_rules *r = run->eng;
    for (size_t i = 0; i < run->nsubs; i++)  /* no lock held: a source's close may block */
        if (run->subs[i].feed) rules__feed_unsub(r, run->subs[i].feed, run, run->subs[i].src);
    rules__timer_remove(r, run);
    if (run->actor.ring) {
        rules__actor_close(r, &run->actor);
        rules__actor_destroy(&run->actor);
    }
    rules__sinks_stop(run);         /* what reached the sinks is delivered before they close */
    rules__timer_remove(r, run);    /* a sink may have asked for a tick meanwhile */
    if (run->ckpt_acks.len) rules__checkpoint_maybe(run, rules__now(r), true); /* their rows are in the state */
    ek_ack_list_free(&run->ckpt_acks);
    for (size_t i = 0; i < run->nnodes; i++) {
        rules__node *n = &run->nodes[i];
        if (n->ops && n->ops->close) n->ops->close(n->st);
        ek_free(n->st);
        if (n->m.name[0]) rules__metrics_destroy(&n->m);
    }
    ek_free(run->nodes);
    rules__sinks_close(run);
    ek_free(run->sinks);
    ek_sql_program_free(run->prog);
    ek_stmt_free(run->stmt);
    for (size_t i = 0; i < run->nsrc; i++) {
        ek_stmt_free(run->src_stmts[i]);
        rules__metrics_destroy(&run->src_m[i]);
    }
    ek_free(run->src_stmts);
    ek_free(run->schemas);
    ek_free(run->src_m);
    ek_free(run->subs);
    ek_free(run->id);
    ek_free(run);
}

/* ------------------------------------------------------------------ actor callbacks */

/* True when an operator keeps rows beyond the mail that brought them (windows, analytic
 * functions, watermarks): what it holds is safe only in a checkpoint. */
static bool stateful(const rules__run *run)
{
    for (size_t i = 0; i < run->nnodes; i++)
        if (run->nodes[i].ops->snapshot) return true;
    return false;
}

void rules__run_handle(rules__actor *a, rules__mail *m)
{
    rules__run *run = (rules__run *)a;
    rules__metrics *sm = &run->src_m[m->src];
    run->wall_ms = rules__coarse_ms();
    rules__m_set(&sm->buffer_len, (long long)run->actor.len_at_take);
    rules__m_add(&sm->in, 1);
    rules__m_set(&sm->last_invocation, run->wall_ms);
    if (m->kind == MAIL_ERROR) {
        rules__metrics_exception(sm, m->err);
        ek_log_rule(EK_LOG_WARN, run->id, "source %s: %s", run->stmt->select.sources[m->src].name, m->err);
        rules__send_error(run, m->err);
        return;
    }
    rules__m_add(&sm->out, 1);
    rules__m_add(&sm->processed, 1);
    /* The mail's row reference serves the batch: no copy, no allocation per event. */
    rules__batch b = {.rows = &m->row, .ntuples = 1, .width = 1, .cap = 1, .src = m->src};
    run->cur_ack = m->ack;          /* results posted to the sinks now carry it */
    node_feed(&run->nodes[0], &b);
    run->cur_ack = NULL;
    ek_free(b.groups);
    ek_value_unref(&b.out);
    /* The rule clock is read only when something below needs it (not for a qos 0 rule whose
     * sinks wait for nothing). */
    bool waiting = rules__sinks_waiting(run);
    if (run->opts.qos < 1 && !waiting) return;
    int64_t now = rules__now(run->eng);
    if (m->ack && stateful(run)) {  /* the row may live on in a window: safe once checkpointed */
        if (!run->ckpt_acks.len) run->ckpt_acks_since = now;
        ek_ack_list_add(&run->ckpt_acks, m->ack);
    }
    int64_t want = INT64_MAX;
    if (run->opts.qos >= 1) {
        rules__checkpoint_maybe(run, now, false);
        if (run->ckpt_acks.len) want = rules__checkpoint_due(run);  /* held acks wait at most 1 s */
    }
    if (waiting) {  /* a batch waiting for lingerInterval, cached data, held acks */
        int64_t sw = rules__sinks_tick(run, now);
        if (sw < want) want = sw;
    }
    if (want != INT64_MAX) rules__timer_set(run->eng, run, want);
}

void rules__run_tick(rules__actor *a, int64_t now)
{
    rules__run *run = (rules__run *)a;
    run->wall_ms = rules__coarse_ms();
    rules__checkpoint_maybe(run, now, false);
    int64_t want = run->opts.qos >= 1 ? rules__checkpoint_due(run) : INT64_MAX;
    for (size_t i = 0; i < run->nnodes && !run->opts.event_time; i++) {
        rules__node *n = &run->nodes[i];
        if (!n->ops->on_tick) continue;
        int64_t w = tick_from(n, now); /* cheap when nothing is due; operators may re-arm themselves */
        if (w < want) want = w;
    }
    int64_t sw = rules__sinks_tick(run, now);
    if (sw < want) want = sw;
    if (want != INT64_MAX) rules__timer_set(run->eng, run, want);
}

/* ------------------------------------------------------------------ status, topo */

/* Whether an earlier part of the rule reads the same source (its metrics are shown once). */
static bool source_seen(const rules__run *first, const rules__run *run, const char *name)
{
    for (const rules__run *p = first; p != run; p = p->part_next)
        for (size_t i = 0; i < p->nsrc; i++)
            if (strcmp(p->src_m[i].name, name) == 0) return true;
    return false;
}

void rules__run_metrics(rules__run *run, ek_value *obj)
{
    for (rules__run *p = run; p; p = p->part_next) {
        for (size_t i = 0; i < p->nsrc; i++)
            if (!source_seen(run, p, p->src_m[i].name)) rules__metrics_put(&p->src_m[i], obj);
        for (size_t i = 0; i < p->nnodes; i++) rules__metrics_put(&p->nodes[i].m, obj);
        for (size_t i = 0; i < p->nsinks; i++) rules__metrics_put(&p->sinks[i].m, obj);
    }
}

/* A node's topo name: its metric name without the trailing "_0" instance. */
static ek_value topo_name(const rules__metrics *m)
{
    size_t n = strlen(m->name);
    return ek_string_n(m->name, n >= 2 ? n - 2 : n);
}

/* Adds to to the edges of the node named name (a source read by several parts feeds each). */
static void add_edges(ek_value *edges, ek_value *srcs, ek_value name, ek_value to)
{
    const ek_value *had = ek_object_get(edges, ek_str_ptr(&name));
    if (had) {
        ek_value all = ek_value_ref(had);
        ek_value_unshare(&all);
        for (size_t i = 0; i < ek_array_len(&to); i++) ek_array_push(&all, ek_value_ref(ek_array_get(&to, i)));
        ek_value_unref(&to);
        to = all;
    } else if (srcs) {
        ek_array_push(srcs, ek_value_ref(&name));
    }
    ek_object_set(edges, ek_str_ptr(&name), to);
    ek_value_unref(&name);
}

static void topo_part(rules__run *run, ek_value *srcs, ek_value *edges)
{
    const rules__metrics *first = run->nnodes ? &run->nodes[0].m : NULL;
    for (size_t i = 0; i < run->nsrc; i++) {
        ek_value to = ek_array_new(1);
        if (first) ek_array_push(&to, topo_name(first));
        add_edges(edges, srcs, topo_name(&run->src_m[i]), to);
    }
    for (size_t i = 0; i < run->nnodes; i++) {
        ek_value name = topo_name(&run->nodes[i].m);
        ek_value to = ek_array_new(1);
        if (i + 1 < run->nnodes) {
            ek_array_push(&to, topo_name(&run->nodes[i + 1].m));
        } else {
            for (size_t k = 0; k < run->nsinks; k++) ek_array_push(&to, topo_name(&run->sinks[k].m));
        }
        ek_object_set(edges, ek_str_ptr(&name), to);
        ek_value_unref(&name);
    }
}

void rules__run_topo(rules__run *run, ek_value *out)
{
    ek_value srcs = ek_array_new(run->nsrc), edges = ek_object_new(4);
    for (rules__run *p = run; p; p = p->part_next) topo_part(p, &srcs, &edges);
    *out = ek_object_new(2);
    ek_object_set(out, "sources", srcs);
    ek_object_set(out, "edges", edges);
}

/* ------------------------------------------------------------------ checkpoints */

ek_value rules__row_save(const ek_row *row, int src)
{
    ek_value v = ek_object_new(4);
    ek_object_set(&v, "m", ek_value_ref(&row->msg));
    ek_object_set(&v, "t", ek_int(row->ts));
    ek_object_set(&v, "s", ek_int(src));
    ek_object_set(&v, "e", ek_string(ek_row_emitter(row)));
    return v;
}

ek_row *rules__row_load(const ek_value *v, int *src)
{
    if (v->type != EK_T_OBJECT) return NULL;
    const ek_value *m = ek_object_get(v, "m"), *t = ek_object_get(v, "t"), *s = ek_object_get(v, "s"),
                   *e = ek_object_get(v, "e");
    if (!m || m->type != EK_T_OBJECT || !t || t->type != EK_T_INT) return NULL;
    if (src) *src = s && s->type == EK_T_INT ? (int)s->i : 0;
    return ek_row_new(ek_value_ref(m), ek_null(), t->i, e && e->type == EK_T_STRING ? ek_str_ptr(e) : NULL);
}

/* The store key of a part's checkpoint: the rule id, then "<id>/<part>" (ids never hold '/'). */
static void ckpt_key(const rules__run *run, char *key, size_t size)
{
    if (run->part) snprintf(key, size, "%s/%zu", run->id, run->part);
    else snprintf(key, size, "%s", run->id);
}

int64_t rules__checkpoint_due(const rules__run *run)
{
    int64_t due = run->next_ckpt;
    if (run->ckpt_acks.len && run->ckpt_acks_since + RULES_HELD_CKPT_MS < due)
        due = run->ckpt_acks_since + RULES_HELD_CKPT_MS;
    return due;
}

void rules__checkpoint_maybe(rules__run *run, int64_t now, bool force)
{
    if (run->opts.qos < 1) return;
    if (!force && now < rules__checkpoint_due(run)) return;
    run->next_ckpt = now + (run->opts.checkpoint_interval > 0 ? run->opts.checkpoint_interval : 300000);
    ek_value doc = ek_object_new(1), nodes = ek_array_new(run->nnodes);
    for (size_t i = 0; i < run->nnodes; i++) {
        rules__node *n = &run->nodes[i];
        ek_value st = ek_null();
        if (n->ops->snapshot && n->ops->snapshot(n->st, &st) != 0) ek_value_unref(&st);
        ek_array_push(&nodes, st);
    }
    ek_object_set(&doc, "nodes", nodes);
    char *text = ek_json_encode_str(&doc, 0);
    ek_err err = {0};
    char key[EK_ERR_MSG_MAX];
    ckpt_key(run, key, sizeof key);
    if (ek_store_set(run->eng->app->store, RULES_NS_CHECKPOINT, key, text, strlen(text), &err) != 0)
        ek_log_rule(EK_LOG_WARN, run->id, "checkpoint not saved: %s", err.msg);
    else ek_ack_list_release(&run->ckpt_acks);  /* the rows they stand for are in the checkpoint */
    ek_free(text);
    ek_value_unref(&doc);
}

void rules__checkpoint_restore(rules__run *run)
{
    if (run->opts.qos < 1) return;
    char *text = NULL;
    size_t len = 0;
    ek_err err = {0};
    char key[EK_ERR_MSG_MAX];
    ckpt_key(run, key, sizeof key);
    if (ek_store_get(run->eng->app->store, RULES_NS_CHECKPOINT, key, &text, &len, &err) != 0) return;
    ek_value doc;
    if (ek_json_decode(text, len, 0, &doc, &err) == 0) {
        const ek_value *nodes = doc.type == EK_T_OBJECT ? ek_object_get(&doc, "nodes") : NULL;
        size_t n = nodes && nodes->type == EK_T_ARRAY ? ek_array_len(nodes) : 0;
        for (size_t i = 0; i < n && i < run->nnodes; i++) {
            rules__node *node = &run->nodes[i];
            const ek_value *st = ek_array_get(nodes, i);
            if (st->type == EK_T_NULL || !node->ops->restore) continue;
            if (node->ops->restore(node->st, st, &err) != 0)
                ek_log_rule(EK_LOG_WARN, run->id, "checkpoint of %s not restored: %s", node->m.name, err.msg);
        }
        ek_log_rule(EK_LOG_INFO, run->id, "Rule %s restored its state from the last checkpoint", run->id);
        ek_value_unref(&doc);
    }
    ek_free(text);
}

void rules__checkpoint_delete(ek_rules *r, const char *id)
{
    ek_err err = {0};
    ek_store_delete(r->app->store, RULES_NS_CHECKPOINT, id, &err);
    for (size_t part = 1;; part++) {  /* the later parts of a graph rule, while there are some */
        char key[EK_ERR_MSG_MAX], *text = NULL;
        size_t len = 0;
        snprintf(key, sizeof key, "%s/%zu", id, part);
        if (ek_store_get(r->app->store, RULES_NS_CHECKPOINT, key, &text, &len, &err) != 0) break;
        ek_free(text);
        ek_store_delete(r->app->store, RULES_NS_CHECKPOINT, key, &err);
    }
}
