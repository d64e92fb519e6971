/* Graph rules (eKuiper's "graph": {"nodes": ..., "topo": ...}) translated into the SQL rule they
 * describe, so they run on the same planner and operators as SQL rules.
 *
 * Supported: one source node, a chain of operator nodes, then one or more sink nodes.
 *   source   props.sourceName (+ sourceType stream|table) names a defined stream or table; an inline
 *            source (nodeType = source type, props datasource/format/confKey) becomes a TEMP stream
 *            named after the node (kept in memory only, never stored)
 *   filter   {expr}: WHERE before grouping, HAVING after groupby/aggfunc
 *   function {expr}: an INVISIBLE select field when a later pick chooses the output, else output
 *   aggfunc  {expr}: likewise, an aggregate
 *   pick     {fields: [...]}: the output fields
 *   window   {type, unit, size, interval}: the GROUP BY window
 *   groupby  {dimensions: [...]}, orderby {sorts: [{field, order}]}
 * Anything else (join, switch, script, several sources, branches between operators) is refused
 * with a message naming the node. Sink nodes become the rule's actions, in topo order. */
#include "engine/buf.h"
#include "engine/codec_json.h"
#include "engine/mem.h"
#include "engine/rules/rules_int.h"

#include <string.h>
#include <strings.h>

typedef struct gsql {
    ek_buf fields, where, having, group, order;
    char *window;
    char *from;
    bool grouped, picked;
} gsql;

static const char *prop_str(const ek_value *props, const char *key)
{
    const ek_value *v = props ? ek_object_get_ci(props, key) : NULL;
    return v && v->type == EK_T_STRING ? ek_str_ptr(v) : NULL;
}

static void append(ek_buf *b, const char *sep, const char *text)
{
    if (b->len) ek_buf_puts(b, sep);
    ek_buf_puts(b, text);
}

/* The node's successors in topo.edges (borrowed array) or NULL. */
static const ek_value *next_of(const ek_value *edges, const char *name)
{
    const ek_value *n = edges ? ek_object_get(edges, name) : NULL;
    return n && n->type == EK_T_ARRAY ? n : NULL;
}

static int source_node(ek_rules *r, const char *name, const ek_value *node, gsql *g, ek_err *err)
{
    const ek_value *props = ek_object_get(node, "props");
    const char *ref = prop_str(props, "sourceName");
    if (ref) {
        g->from = ek_strdup(ref);
        return 0;
    }
    const char *type = prop_str(node, "nodeType");
    const char *ds = prop_str(props, "datasource");
    if (!type) return ek_err_set(err, EK_EINVAL, "graph node %s: a source needs nodeType or props.sourceName", name);
    g->from = ek_strdup(name);
    pthread_mutex_lock(&r->lock);
    bool exists = rules__stream_find(r, name, -1) != NULL;
    pthread_mutex_unlock(&r->lock);
    if (exists) return 0;
    ek_buf sql = EK_BUF_INIT;
    ek_buf_printf(&sql, "CREATE STREAM %s () WITH (TYPE=\"%s\", DATASOURCE=\"%s\", TEMP=\"true\"", name, type,
                  ds ? ds : name);
    const char *fmt = prop_str(props, "format"), *ck = prop_str(props, "confKey");
    if (fmt) ek_buf_printf(&sql, ", FORMAT=\"%s\"", fmt);
    if (ck) ek_buf_printf(&sql, ", CONF_KEY=\"%s\"", ck);
    ek_buf_puts(&sql, ")");
    int rc = ek_rules_stream_create(r, false, sql.data, NULL, err);
    ek_buf_free(&sql);
    return rc == EK_EEXIST ? 0 : rc;
}

static int window_node(const char *name, const ek_value *props, gsql *g, ek_err *err)
{
    const char *type = prop_str(props, "type"), *unit = prop_str(props, "unit");
    const ek_value *size = props ? ek_object_get(props, "size") : NULL;
    const ek_value *iv = props ? ek_object_get(props, "interval") : NULL;
    double sz = 0, in = 0;
    if (!type || !size || !ek_value_as_double(size, &sz))
        return ek_err_set(err, EK_EINVAL, "graph node %s: a window needs type and size", name);
    bool has_iv = iv && ek_value_as_double(iv, &in) && in > 0;
    bool count = strcasecmp(type, "countwindow") == 0;
    ek_buf w = EK_BUF_INIT;
    if (count) ek_buf_printf(&w, "COUNTWINDOW(%lld", (long long)sz);
    else ek_buf_printf(&w, "%s(%s, %lld", type, unit ? unit : "ss", (long long)sz);
    if (has_iv) ek_buf_printf(&w, ", %lld", (long long)in);
    ek_buf_puts(&w, ")");
    g->window = ek_buf_detach(&w);
    return 0;
}

static int operator_node(const char *name, const ek_value *node, gsql *g, ek_err *err)
{
    const char *kind = prop_str(node, "nodeType");
    const ek_value *props = ek_object_get(node, "props");
    const char *expr = prop_str(props, "expr");
    if (!kind) return ek_err_set(err, EK_EINVAL, "graph node %s: nodeType is required", name);
    if (strcasecmp(kind, "filter") == 0 && expr) {
        append(g->grouped ? &g->having : &g->where, " AND ", "(");
        ek_buf_puts(g->grouped ? &g->having : &g->where, expr);
        ek_buf_puts(g->grouped ? &g->having : &g->where, ")");
    } else if ((strcasecmp(kind, "function") == 0 || strcasecmp(kind, "aggfunc") == 0) && expr) {
        append(&g->fields, ", ", expr);
        ek_buf_puts(&g->fields, " INVISIBLE");  /* made visible below unless a pick follows */
        if (strcasecmp(kind, "aggfunc") == 0) g->grouped = true;
    } else if (strcasecmp(kind, "pick") == 0) {
        const ek_value *f = props ? ek_object_get(props, "fields") : NULL;
        for (size_t i = 0; f && f->type == EK_T_ARRAY && i < ek_array_len(f); i++)
            if (ek_array_get(f, i)->type == EK_T_STRING) append(&g->fields, ", ", ek_str_ptr(ek_array_get(f, i)));
        g->picked = true;
    } else if (strcasecmp(kind, "window") == 0) {
        return window_node(name, props, g, err);
    } else if (strcasecmp(kind, "groupby") == 0) {
        const ek_value *d = props ? ek_object_get(props, "dimensions") : NULL;
        for (size_t i = 0; d && d->type == EK_T_ARRAY && i < ek_array_len(d); i++)
            if (ek_array_get(d, i)->type == EK_T_STRING) append(&g->group, ", ", ek_str_ptr(ek_array_get(d, i)));
        g->grouped = true;
    } else if (strcasecmp(kind, "orderby") == 0) {
        const ek_value *s = props ? ek_object_get(props, "sorts") : NULL;
        for (size_t i = 0; s && s->type == EK_T_ARRAY && i < ek_array_len(s); i++) {
            const char *field = prop_str(ek_array_get(s, i), "field"), *ord = prop_str(ek_array_get(s, i), "order");
            if (!field) continue;
            append(&g->order, ", ", field);
            if (ord && strcasecmp(ord, "desc") == 0) ek_buf_puts(&g->order, " DESC");
        }
    } else {
        return ek_err_set(err, EK_EPLAN, "graph node %s: operator %s is not supported yet", name, kind);
    }
    return 0;
}

/* Builds the SELECT text from the collected clauses. */
static char *build(gsql *g)
{
    ek_buf out = EK_BUF_INIT;
    ek_buf_puts(&out, "SELECT ");
    if (!g->picked) {
        /* No pick: functions are output; a plain chain outputs every field. */
        char *f = g->fields.data ? g->fields.data : NULL;
        for (char *p = f ? strstr(f, " INVISIBLE") : NULL; p; p = strstr(p, " INVISIBLE")) memset(p, ' ', 10);
        if (!g->grouped) ek_buf_puts(&out, "*");
        if (g->fields.len) ek_buf_printf(&out, "%s%s", g->grouped ? "" : ", ", g->fields.data);
    } else {
        ek_buf_puts(&out, g->fields.data ? g->fields.data : "*");
    }
    ek_buf_printf(&out, " FROM %s", g->from);
    if (g->where.len) ek_buf_printf(&out, " WHERE %s", g->where.data);
    if (g->group.len || g->window) {
        ek_buf_puts(&out, " GROUP BY ");
        if (g->group.len) ek_buf_printf(&out, "%s%s", g->group.data, g->window ? ", " : "");
        if (g->window) ek_buf_puts(&out, g->window);
    }
    if (g->having.len) ek_buf_printf(&out, " HAVING %s", g->having.data);
    if (g->order.len) ek_buf_printf(&out, " ORDER BY %s", g->order.data);
    return ek_buf_detach(&out);
}

int rules__graph_sql(ek_rules *r, const ek_value *graph, char **sql, ek_value *actions, ek_err *err)
{
    const ek_value *nodes = ek_object_get(graph, "nodes"), *topo = ek_object_get(graph, "topo");
    const ek_value *sources = topo && topo->type == EK_T_OBJECT ? ek_object_get(topo, "sources") : NULL;
    const ek_value *edges = topo && topo->type == EK_T_OBJECT ? ek_object_get(topo, "edges") : NULL;
    if (!nodes || nodes->type != EK_T_OBJECT || !sources || sources->type != EK_T_ARRAY)
        return ek_err_set(err, EK_EINVAL, "graph: nodes and topo.sources are required");
    if (ek_array_len(sources) != 1 || ek_array_get(sources, 0)->type != EK_T_STRING)
        return ek_err_set(err, EK_EPLAN, "graph: exactly one source node is supported");
    gsql g = {EK_BUF_INIT, EK_BUF_INIT, EK_BUF_INIT, EK_BUF_INIT, EK_BUF_INIT, NULL, NULL, false, false};
    *actions = ek_array_new(2);
    const char *name = ek_str_ptr(ek_array_get(sources, 0));
    int rc = 0;
    for (int steps = 0; name && rc == 0; steps++) {
        const ek_value *node = ek_object_get(nodes, name);
        const char *type = node ? prop_str(node, "type") : NULL;
        if (!type || steps > 64) {
            rc = ek_err_set(err, EK_EINVAL, "graph: node %s is not defined", name);
            break;
        }
        if (strcasecmp(type, "source") == 0) rc = source_node(r, name, node, &g, err);
        else if (strcasecmp(type, "operator") == 0) rc = operator_node(name, node, &g, err);
        const ek_value *next = next_of(edges, name);
        name = NULL;
        if (!next || ek_array_len(next) == 0) break;
        const ek_value *first = ek_object_get(nodes, ek_str_ptr(ek_array_get(next, 0)));
        const char *ftype = first ? prop_str(first, "type") : NULL;
        if (ftype && strcasecmp(ftype, "sink") == 0) {
            for (size_t i = 0; i < ek_array_len(next); i++) {
                const ek_value *sn = ek_object_get(nodes, ek_str_ptr(ek_array_get(next, i)));
                const char *st = sn ? prop_str(sn, "nodeType") : NULL;
                if (!st) continue;
                const ek_value *sp = ek_object_get(sn, "props");
                ek_value act = ek_object_new(1);
                ek_object_set(&act, st, sp && sp->type == EK_T_OBJECT ? ek_value_ref(sp) : ek_object_new(0));
                ek_array_push(actions, act);
            }
            break;
        }
        if (ek_array_len(next) > 1) {
            rc = ek_err_set(err, EK_EPLAN, "graph: branching after %s is not supported yet", ek_str_ptr(ek_array_get(next, 0)));
            break;
        }
        name = ek_str_ptr(ek_array_get(next, 0));
    }
    if (rc == 0 && !g.from) rc = ek_err_set(err, EK_EINVAL, "graph: no source node");
    if (rc == 0 && ek_array_len(actions) == 0) rc = ek_err_set(err, EK_EINVAL, "graph: no sink node");
    if (rc == 0) *sql = build(&g);
    else ek_value_unref(actions);
    ek_buf_free(&g.fields);
    ek_buf_free(&g.where);
    ek_buf_free(&g.having);
    ek_buf_free(&g.group);
    ek_buf_free(&g.order);
    ek_free(g.window);
    ek_free(g.from);
    return rc;
}
