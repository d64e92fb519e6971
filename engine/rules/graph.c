/* Graph rules (eKuiper's "graph": {"nodes": ..., "topo": {"sources", "edges"}}) translated into the
 * SQL pipelines they describe, so they run on the same planner and operators as SQL rules.
 *
 * The graph is checked first (node and operator types, edges to undefined nodes, cycles, operators
 * without input or output, several inputs where eKuiper allows one). Then every input edge of every
 * sink gives one path: the unique chain of operators from the sources to that edge (operators take
 * one input, except a window or join that merges source nodes). A path becomes a SELECT:
 *   source   props.sourceName (+ sourceType stream|table) names a defined stream or table; an inline
 *            source (nodeType = source type, props datasource/format/confKey) becomes a TEMP stream
 *   filter   {expr}: WHERE, or HAVING once grouped;  switch {cases, stopAtFirstMatch}: the same with
 *            the condition of the case the path leaves by (and the negated earlier cases when first
 *            match stops), so a branch behind case 1 sees what eKuiper routes to output 1
 *   function / aggfunc {expr}: select fields (INVISIBLE when a later pick chooses the output)
 *   pick {fields}, window {type, unit, size, interval}, groupby {dimensions}, orderby {sorts}
 *   join {from, joins: [{name, type, on}]}: FROM from TYPE JOIN name ON on ...; watermark: nothing
 * Paths with the same SELECT share one pipeline with several actions (a branch to several sinks);
 * different ones become the rule's parts (rules__gpart), each planned as its own run. Splitting a
 * branch point into parts is exact because every operator is deterministic over the same input. */
#include "engine/buf.h"
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <string.h>
#include <strings.h>

enum { G_SOURCE, G_OP, G_SINK };

typedef struct gedge {
    size_t from;
    size_t out;                 /* the output of from it leaves by (a switch case), 0 otherwise */
} gedge;

typedef struct gnode {
    const char *name;
    const ek_value *def, *props;
    int kind;
    const char *ntype;          /* nodeType */
    gedge *in;
    size_t nin;
    bool has_out, listed;       /* has edges; a source listed in topo.sources */
    char *stream;               /* sources: the stream or table the SQL names */
    bool table, lookup;
    int color;                  /* cycle search: 0 new, 1 on the stack, 2 done */
} gnode;

typedef struct graph {
    ek_rules *r;
    gnode *n;
    size_t count;
} graph;

/* One step of a path: a node and the output it leaves by. */
typedef struct gstep {
    size_t node, out;
} gstep;

typedef struct gpath {
    gstep *s;
    size_t len, cap;
} gpath;

static const char *const OPS[] = {"function", "aggfunc", "filter", "pick", "window", "join",
                                  "groupby", "orderby", "switch", "watermark"};

static const char *prop_str(const ek_value *props, const char *key)
{
    const ek_value *v = props && props->type == EK_T_OBJECT ? ek_object_get_ci(props, key) : NULL;
    return v && v->type == EK_T_STRING ? ek_str_ptr(v) : NULL;
}

static const ek_value *prop_arr(const ek_value *props, const char *key)
{
    const ek_value *v = props && props->type == EK_T_OBJECT ? ek_object_get_ci(props, key) : NULL;
    return v && v->type == EK_T_ARRAY ? v : NULL;
}

static bool is(const gnode *n, const char *ntype) { return n->ntype && strcasecmp(n->ntype, ntype) == 0; }

static long find(const graph *g, const char *name)
{
    for (size_t i = 0; i < g->count; i++)
        if (strcmp(g->n[i].name, name) == 0) return (long)i;
    return -1;
}

/* ------------------------------------------------------------------ reading and checking */

static int read_node(graph *g, size_t i, const char *name, const ek_value *def, ek_err *err)
{
    gnode *n = &g->n[i];
    n->name = name;
    n->def = def;
    if (def->type != EK_T_OBJECT) return ek_err_set(err, EK_EINVAL, "graph node %s must be an object", name);
    const char *type = prop_str(def, "type");
    n->ntype = prop_str(def, "nodeType");
    n->props = ek_object_get(def, "props");
    if (!type) return ek_err_set(err, EK_EINVAL, "graph node %s: type is required (source, operator or sink)", name);
    if (strcasecmp(type, "source") == 0) n->kind = G_SOURCE;
    else if (strcasecmp(type, "operator") == 0) n->kind = G_OP;
    else if (strcasecmp(type, "sink") == 0) n->kind = G_SINK;
    else return ek_err_set(err, EK_EINVAL, "graph node %s: unknown node type %s (source, operator or sink)", name, type);
    if (!n->ntype && !(n->kind == G_SOURCE && prop_str(n->props, "sourceName")))
        return ek_err_set(err, EK_EINVAL, "graph node %s: nodeType is required", name);
    if (n->kind != G_OP) return 0;
    if (strcasecmp(n->ntype, "script") == 0)
        return ek_err_set(err, EK_EPLAN, "graph node %s: script (JavaScript) operators are not supported", name);
    for (size_t k = 0; k < sizeof OPS / sizeof *OPS; k++)
        if (strcasecmp(n->ntype, OPS[k]) == 0) return 0;
    return ek_err_set(err, EK_EINVAL, "graph node %s: unknown operator type %s", name, n->ntype);
}

static void add_in(gnode *to, size_t from, size_t out)
{
    to->in = ek_realloc(to->in, (to->nin + 1) * sizeof *to->in);
    to->in[to->nin++] = (gedge){from, out};
}

static int add_edge(graph *g, size_t from, size_t out, const ek_value *to, ek_err *err)
{
    if (to->type != EK_T_STRING) return ek_err_set(err, EK_EINVAL, "graph: an edge from %s must name a node", g->n[from].name);
    long t = find(g, ek_str_ptr(to));
    if (t < 0) return ek_err_set(err, EK_EINVAL, "graph: edge from %s to undefined node %s", g->n[from].name, ek_str_ptr(to));
    if (g->n[t].kind == G_SOURCE)
        return ek_err_set(err, EK_EINVAL, "graph: edge from %s into source node %s", g->n[from].name, g->n[t].name);
    add_in(&g->n[t], from, out);
    return 0;
}

/* topo.edges: {from: [to, ...]}; a switch lists one array per case: {sw: [[to, ...], [to, ...]]}. */
static int read_edges(graph *g, const ek_value *edges, ek_err *err)
{
    for (size_t e = 0; edges && e < ek_object_len(edges); e++) {
        const char *fname = ek_object_key(edges, e);
        const ek_value *tos = ek_object_val(edges, e);
        long f = find(g, fname);
        if (f < 0) return ek_err_set(err, EK_EINVAL, "graph: edge from undefined node %s", fname);
        gnode *from = &g->n[f];
        if (from->kind == G_SINK) return ek_err_set(err, EK_EINVAL, "graph: sink node %s cannot have edges", fname);
        if (tos->type != EK_T_ARRAY) return ek_err_set(err, EK_EINVAL, "graph: the edges of %s must be an array", fname);
        const ek_value *cases = is(from, "switch") ? prop_arr(from->props, "cases") : NULL;
        for (size_t i = 0; i < ek_array_len(tos); i++) {
            const ek_value *to = ek_array_get(tos, i);
            int rc = 0;
            if (to->type != EK_T_ARRAY) {
                rc = add_edge(g, (size_t)f, 0, to, err);
            } else if (!is(from, "switch")) {
                return ek_err_set(err, EK_EINVAL, "graph: node %s is not a switch: its edges must name nodes", fname);
            } else if (!cases || i >= ek_array_len(cases)) {
                return ek_err_set(err, EK_EINVAL, "graph: switch %s has no case %zu for its edge", fname, i);
            } else {
                for (size_t k = 0; k < ek_array_len(to) && rc == 0; k++) rc = add_edge(g, (size_t)f, i, ek_array_get(to, k), err);
            }
            if (rc) return rc;
            from->has_out = true;
        }
    }
    return 0;
}

static int find_cycle(graph *g, size_t i, ek_err *err)
{
    gnode *n = &g->n[i];
    if (n->color == 2) return 0;
    if (n->color == 1) return ek_err_set(err, EK_EINVAL, "graph: the edges form a cycle through node %s", n->name);
    n->color = 1;
    for (size_t k = 0; k < n->nin; k++) {
        int rc = find_cycle(g, n->in[k].from, err);
        if (rc) return rc;
    }
    n->color = 2;
    return 0;
}

/* What a source node reads: a defined stream or table, or an inline one created as TEMP. */
static int read_source(graph *g, gnode *n, ek_err *err)
{
    const char *ref = prop_str(n->props, "sourceName"), *st = prop_str(n->props, "sourceType");
    if (st && strcasecmp(st, "stream") != 0 && strcasecmp(st, "table") != 0)
        return ek_err_set(err, EK_EINVAL, "graph node %s: sourceType %s is not stream or table", n->name, st);
    n->table = st && strcasecmp(st, "table") == 0;
    n->stream = ek_strdup(ref ? ref : n->name);
    pthread_mutex_lock(&g->r->lock);
    rules__stream *s = rules__stream_find(g->r, n->stream, n->table);
    const char *kind = s ? rules__prop(s, EK_PROP_KIND) : NULL;
    n->lookup = s && s->table && kind && strcasecmp(kind, "lookup") == 0;
    pthread_mutex_unlock(&g->r->lock);
    if (s) return 0;
    if (ref) return ek_err_set(err, EK_EPLAN, "graph node %s: %s %s is not found", n->name, n->table ? "table" : "stream", ref);
    const char *ds = prop_str(n->props, "datasource"), *fmt = prop_str(n->props, "format"),
               *ck = prop_str(n->props, "confKey"), *kd = prop_str(n->props, "kind"), *key = prop_str(n->props, "key");
    ek_buf sql = EK_BUF_INIT;
    ek_buf_printf(&sql, "CREATE %s %s () WITH (TYPE=\"%s\", DATASOURCE=\"%s\", TEMP=\"true\"", n->table ? "TABLE" : "STREAM",
                  n->name, n->ntype, ds ? ds : n->name);
    if (fmt) ek_buf_printf(&sql, ", FORMAT=\"%s\"", fmt);
    if (ck) ek_buf_printf(&sql, ", CONF_KEY=\"%s\"", ck);
    if (n->table && kd) ek_buf_printf(&sql, ", KIND=\"%s\"", kd);
    if (n->table && key) ek_buf_printf(&sql, ", KEY=\"%s\"", key);
    ek_buf_puts(&sql, ")");
    int rc = ek_rules_stream_create(g->r, n->table, sql.data, NULL, err);
    ek_buf_free(&sql);
    n->lookup = n->table && kd && strcasecmp(kd, "lookup") == 0;
    return rc == EK_EEXIST ? 0 : rc;
}

static int check(graph *g, const ek_value *sources, ek_err *err)
{
    for (size_t i = 0; i < ek_array_len(sources); i++) {
        const ek_value *s = ek_array_get(sources, i);
        long k = s->type == EK_T_STRING ? find(g, ek_str_ptr(s)) : -1;
        if (k < 0) return ek_err_set(err, EK_EINVAL, "graph: source node %s is not defined",
                                     s->type == EK_T_STRING ? ek_str_ptr(s) : "(not a string)");
        if (g->n[k].kind != G_SOURCE) return ek_err_set(err, EK_EINVAL, "graph: %s in topo.sources is not a source node", g->n[k].name);
        g->n[k].listed = true;
    }
    for (size_t i = 0; i < g->count; i++) {
        int rc = find_cycle(g, i, err);
        if (rc) return rc;
    }
    for (size_t i = 0; i < g->count; i++) {
        gnode *n = &g->n[i];
        const char *what = n->kind == G_SOURCE ? "source" : n->kind == G_OP ? "operator" : "sink";
        if (n->kind == G_SOURCE && !n->listed)
            return ek_err_set(err, EK_EINVAL, "graph: source node %s is not listed in topo.sources", n->name);
        if (n->kind != G_SINK && !n->has_out) return ek_err_set(err, EK_EINVAL, "graph: %s node %s has no output edge", what, n->name);
        if (n->kind != G_SOURCE && n->nin == 0) return ek_err_set(err, EK_EINVAL, "graph: %s node %s has no input", what, n->name);
        if (n->kind == G_OP && n->nin > 1 && !is(n, "window") && !is(n, "join"))
            return ek_err_set(err, EK_EINVAL, "graph: operator %s of type %s does not allow multiple inputs", n->name, n->ntype);
    }
    for (size_t i = 0; i < g->count; i++) {
        int rc = g->n[i].kind == G_SOURCE ? read_source(g, &g->n[i], err) : 0;
        if (rc) return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ paths */

static void path_push(gpath *p, size_t node, size_t out)
{
    if (p->len == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->s = ek_realloc(p->s, p->cap * sizeof *p->s);
    }
    p->s[p->len++] = (gstep){node, out};
}

/* Appends the chain that ends at node i (leaving by output out) to p. A window or join with several
 * inputs merges them: each input must then be a source node, or (for a join) a window doing so. */
static int path_to(graph *g, size_t i, size_t out, gpath *p, ek_err *err)
{
    gnode *n = &g->n[i];
    if (n->nin > 1) {
        for (size_t k = 0; k < n->nin; k++) {
            const gnode *in = &g->n[n->in[k].from];
            bool ok = in->kind == G_SOURCE || (is(n, "join") && is(in, "window"));
            if (!ok) return ek_err_set(err, EK_EPLAN, "graph: %s %s merges several inputs: %s must be a source node%s",
                                       n->ntype, n->name, in->name, is(n, "join") ? " or a window" : "");
            int rc = path_to(g, n->in[k].from, n->in[k].out, p, err);
            if (rc) return rc;
        }
    } else if (n->nin == 1) {
        int rc = path_to(g, n->in[0].from, n->in[0].out, p, err);
        if (rc) return rc;
    }
    path_push(p, i, out);
    return 0;
}

/* ------------------------------------------------------------------ a path as SQL */

typedef struct gsql {
    ek_buf fields, where, having, group, order, join;
    char *window;
    const char *from;           /* the FROM stream (borrowed) */
    size_t nstreams;            /* stream sources on the path */
    bool grouped, picked;
} gsql;

static void append(ek_buf *b, const char *sep, const char *text)
{
    if (b->len) ek_buf_puts(b, sep);
    ek_buf_puts(b, text);
}

static void add_cond(gsql *s, const char *cond)
{
    ek_buf *b = s->grouped ? &s->having : &s->where;
    append(b, " AND ", "(");
    ek_buf_puts(b, cond);
    ek_buf_puts(b, ")");
}

/* The condition under which a switch routes a row to output `out`. */
static int switch_cond(const gnode *n, size_t out, gsql *s, ek_err *err)
{
    const ek_value *cases = prop_arr(n->props, "cases");
    const ek_value *stop = n->props && n->props->type == EK_T_OBJECT ? ek_object_get_ci(n->props, "stopAtFirstMatch") : NULL;
    if (!cases || ek_array_len(cases) == 0) return ek_err_set(err, EK_EINVAL, "graph node %s: a switch needs cases", n->name);
    for (size_t i = 0; i < ek_array_len(cases); i++)
        if (ek_array_get(cases, i)->type != EK_T_STRING)
            return ek_err_set(err, EK_EINVAL, "graph node %s: case %zu is not an expression string", n->name, i);
    ek_buf c = EK_BUF_INIT;
    if (stop && stop->type == EK_T_BOOL && stop->b)
        for (size_t i = 0; i < out; i++) ek_buf_printf(&c, "NOT (%s) AND ", ek_str_ptr(ek_array_get(cases, i)));
    ek_buf_printf(&c, "(%s)", ek_str_ptr(ek_array_get(cases, out)));
    add_cond(s, c.data);
    ek_buf_free(&c);
    return 0;
}

static int window_node(const gnode *n, gsql *s, ek_err *err)
{
    const char *type = prop_str(n->props, "type"), *unit = prop_str(n->props, "unit");
    const ek_value *size = n->props && n->props->type == EK_T_OBJECT ? ek_object_get(n->props, "size") : NULL;
    const ek_value *iv = n->props && n->props->type == EK_T_OBJECT ? ek_object_get(n->props, "interval") : NULL;
    double sz = 0, in = 0;
    if (!type || !size || !ek_value_as_double(size, &sz))
        return ek_err_set(err, EK_EINVAL, "graph node %s: a window needs type and size", n->name);
    if (s->window) return ek_err_set(err, EK_EPLAN, "graph node %s: a path can hold one window only", n->name);
    static const char *const types[] = {"tumblingwindow", "hoppingwindow", "slidingwindow", "sessionwindow", "countwindow"};
    size_t t = 0;
    while (t < sizeof types / sizeof *types && strcasecmp(type, types[t]) != 0) t++;
    if (t == sizeof types / sizeof *types)
        return ek_err_set(err, EK_EINVAL, "graph node %s: unknown window type %s (tumblingwindow, hoppingwindow, "
                          "slidingwindow, sessionwindow or countwindow)", n->name, type);
    bool has_iv = iv && ek_value_as_double(iv, &in) && in > 0;
    ek_buf w = EK_BUF_INIT;
    if (strcasecmp(type, "countwindow") == 0) ek_buf_printf(&w, "COUNTWINDOW(%lld", (long long)sz);
    else ek_buf_printf(&w, "%s(%s, %lld", type, unit ? unit : "ss", (long long)sz);
    if (has_iv) ek_buf_printf(&w, ", %lld", (long long)in);
    ek_buf_puts(&w, ")");
    s->window = ek_buf_detach(&w);
    return 0;
}

static bool on_path(const graph *g, const gpath *p, const char *stream, const gnode **src)
{
    for (size_t i = 0; i < p->len; i++) {
        const gnode *n = &g->n[p->s[i].node];
        if (n->kind == G_SOURCE && strcmp(n->stream, stream) == 0) {
            if (src) *src = n;
            return true;
        }
    }
    return false;
}

static int join_node(const graph *g, const gpath *p, const gnode *n, gsql *s, ek_err *err)
{
    const char *from = prop_str(n->props, "from");
    const ek_value *joins = prop_arr(n->props, "joins");
    const gnode *src = NULL;
    if (!from || !joins) return ek_err_set(err, EK_EINVAL, "graph node %s: a join needs from and joins", n->name);
    if (!on_path(g, p, from, &src) || src->table)
        return ek_err_set(err, EK_EPLAN, "graph node %s: join source %s is not a stream feeding the join", n->name, from);
    if (s->join.len) return ek_err_set(err, EK_EPLAN, "graph node %s: a path can hold one join node only", n->name);
    s->from = src->stream;
    bool stream_joined = false;
    for (size_t i = 0; i < ek_array_len(joins); i++) {
        const ek_value *j = ek_array_get(joins, i);
        const char *name = prop_str(j, "name"), *type = prop_str(j, "type"), *on = prop_str(j, "on");
        const gnode *right = NULL;
        if (!name) return ek_err_set(err, EK_EINVAL, "graph node %s: join %zu needs a name", n->name, i);
        if (!on_path(g, p, name, &right))
            return ek_err_set(err, EK_EPLAN, "graph node %s: %s is not a source feeding the join", n->name, name);
        if (!right->table) stream_joined = true;
        ek_buf_printf(&s->join, " %s JOIN %s", type ? type : "inner", name);
        if (on && (!type || strcasecmp(type, "cross") != 0)) ek_buf_printf(&s->join, " ON %s", on);
    }
    if (stream_joined && !s->window)
        return ek_err_set(err, EK_EPLAN, "graph node %s: a join of two streams needs a window node before it", n->name);
    return 0;
}

static void list_into(ek_buf *b, const ek_value *arr, const char *key)
{
    for (size_t i = 0; arr && i < ek_array_len(arr); i++) {
        const ek_value *v = ek_array_get(arr, i);
        const char *text = key ? prop_str(v, key) : v->type == EK_T_STRING ? ek_str_ptr(v) : NULL;
        if (!text) continue;
        append(b, ", ", text);
        const char *ord = key ? prop_str(v, "order") : NULL;
        if (ord && strcasecmp(ord, "desc") == 0) ek_buf_puts(b, " DESC");
    }
}

static int step_sql(const graph *g, const gpath *p, size_t k, gsql *s, ek_err *err)
{
    const gnode *n = &g->n[p->s[k].node];
    const char *expr = prop_str(n->props, "expr");
    if (n->kind == G_SOURCE) {
        if (!n->table) s->nstreams++;
        if (!s->from && !n->table) s->from = n->stream;
        return 0;
    }
    if ((is(n, "filter") || is(n, "function") || is(n, "aggfunc")) && !expr)
        return ek_err_set(err, EK_EINVAL, "graph node %s: %s needs props.expr", n->name, n->ntype);
    if (is(n, "filter")) {
        add_cond(s, expr);
    } else if (is(n, "switch")) {
        return switch_cond(n, p->s[k].out, s, err);
    } else if (is(n, "function") || is(n, "aggfunc")) {
        append(&s->fields, ", ", expr);
        ek_buf_puts(&s->fields, " INVISIBLE");  /* made visible when no pick follows */
        if (is(n, "aggfunc")) s->grouped = true;
    } else if (is(n, "pick")) {
        const ek_value *f = prop_arr(n->props, "fields");
        if (!f || ek_array_len(f) == 0) return ek_err_set(err, EK_EINVAL, "graph node %s: pick needs fields", n->name);
        list_into(&s->fields, f, NULL);
        s->picked = true;
    } else if (is(n, "window")) {
        return window_node(n, s, err);
    } else if (is(n, "groupby")) {
        list_into(&s->group, prop_arr(n->props, "dimensions"), NULL);
        s->grouped = true;
    } else if (is(n, "orderby")) {
        list_into(&s->order, prop_arr(n->props, "sorts"), "field");
    } else if (is(n, "join")) {
        return join_node(g, p, n, s, err);
    }
    return 0;  /* watermark: event time comes from the rule's isEventTime */
}

static char *build(gsql *s)
{
    ek_buf out = EK_BUF_INIT;
    ek_buf_puts(&out, "SELECT ");
    if (!s->picked) {
        for (char *q = s->fields.data ? strstr(s->fields.data, " INVISIBLE") : NULL; q; q = strstr(q, " INVISIBLE"))
            memset(q, ' ', 10);
        if (!s->grouped || !s->fields.len) ek_buf_puts(&out, "*");
        if (s->fields.len) ek_buf_printf(&out, "%s%s", s->grouped ? "" : ", ", s->fields.data);
    } else {
        ek_buf_puts(&out, s->fields.data);
    }
    ek_buf_printf(&out, " FROM %s%s", s->from, s->join.len ? s->join.data : "");
    if (s->where.len) ek_buf_printf(&out, " WHERE %s", s->where.data);
    if (s->group.len || s->window) {
        ek_buf_puts(&out, " GROUP BY ");
        if (s->group.len) ek_buf_printf(&out, "%s%s", s->group.data, s->window ? ", " : "");
        if (s->window) ek_buf_puts(&out, s->window);
    }
    if (s->having.len) ek_buf_printf(&out, " HAVING %s", s->having.data);
    if (s->order.len) ek_buf_printf(&out, " ORDER BY %s", s->order.data);
    return ek_buf_detach(&out);
}

static int path_sql(const graph *g, const gpath *p, const gnode *sink, char **sql, ek_err *err)
{
    gsql s = {0};
    int rc = 0;
    for (size_t k = 0; k < p->len && rc == 0; k++) rc = step_sql(g, p, k, &s, err);
    if (rc == 0 && !s.from) rc = ek_err_set(err, EK_EPLAN, "graph: sink %s is fed by no stream source", sink->name);
    if (rc == 0 && s.nstreams > 1 && !s.join.len)
        rc = ek_err_set(err, EK_EPLAN, "graph: several streams reach sink %s without a join node", sink->name);
    if (rc == 0) *sql = build(&s);
    ek_buf_free(&s.fields);
    ek_buf_free(&s.where);
    ek_buf_free(&s.having);
    ek_buf_free(&s.group);
    ek_buf_free(&s.order);
    ek_buf_free(&s.join);
    ek_free(s.window);
    return rc;
}

/* ------------------------------------------------------------------ parts */

static void add_action(rules__gpart **parts, size_t *nparts, char *sql, const gnode *sink)
{
    size_t i = 0;
    while (i < *nparts && strcmp((*parts)[i].sql, sql) != 0) i++;
    if (i == *nparts) {
        *parts = ek_realloc(*parts, (*nparts + 1) * sizeof **parts);
        (*parts)[i].sql = sql;
        (*parts)[i].actions = ek_array_new(1);
        (*nparts)++;
    } else {
        ek_free(sql);
    }
    ek_value act = ek_object_new(1);
    ek_object_set(&act, sink->ntype, sink->props && sink->props->type == EK_T_OBJECT ? ek_value_ref(sink->props) : ek_object_new(0));
    ek_array_push(&(*parts)[i].actions, act);
}

void rules__graph_parts_free(rules__gpart *parts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ek_free(parts[i].sql);
        ek_value_unref(&parts[i].actions);
    }
    ek_free(parts);
}

static int make_parts(graph *g, rules__gpart **parts, size_t *nparts, ek_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < g->count && rc == 0; i++) {
        gnode *sink = &g->n[i];
        for (size_t k = 0; sink->kind == G_SINK && k < sink->nin && rc == 0; k++) {
            gpath p = {0};
            char *sql = NULL;
            rc = path_to(g, sink->in[k].from, sink->in[k].out, &p, err);
            if (rc == 0) rc = path_sql(g, &p, sink, &sql, err);
            if (rc == 0) add_action(parts, nparts, sql, sink);
            ek_free(p.s);
        }
    }
    if (rc == 0 && *nparts == 0) rc = ek_err_set(err, EK_EINVAL, "graph: no sink node");
    return rc;
}

int rules__graph_parts(ek_rules *r, const ek_value *gv, rules__gpart **parts, size_t *nparts, ek_err *err)
{
    const ek_value *nodes = ek_object_get(gv, "nodes"), *topo = ek_object_get(gv, "topo");
    const ek_value *sources = topo && topo->type == EK_T_OBJECT ? ek_object_get(topo, "sources") : NULL;
    const ek_value *edges = topo && topo->type == EK_T_OBJECT ? ek_object_get(topo, "edges") : NULL;
    *parts = NULL;
    *nparts = 0;
    if (!nodes || nodes->type != EK_T_OBJECT || !sources || sources->type != EK_T_ARRAY || ek_array_len(sources) == 0)
        return ek_err_set(err, EK_EINVAL, "graph: nodes and topo.sources are required");
    if (edges && edges->type != EK_T_OBJECT) return ek_err_set(err, EK_EINVAL, "graph: topo.edges must be an object");
    graph g = {r, ek_calloc(ek_object_len(nodes) + 1, sizeof(gnode)), ek_object_len(nodes)};
    int rc = 0;
    for (size_t i = 0; i < g.count && rc == 0; i++) rc = read_node(&g, i, ek_object_key(nodes, i), ek_object_val(nodes, i), err);
    if (rc == 0) rc = read_edges(&g, edges, err);
    if (rc == 0) rc = check(&g, sources, err);
    if (rc == 0) rc = make_parts(&g, parts, nparts, err);
    if (rc) {
        rules__graph_parts_free(*parts, *nparts);
        *parts = NULL;
        *nparts = 0;
    }
    for (size_t i = 0; i < g.count; i++) {
        ek_free(g.n[i].in);
        ek_free(g.n[i].stream);
    }
    ek_free(g.n);
    return rc;
}
