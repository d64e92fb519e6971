/* The expression compiler and evaluator: what a rule runs on every row.
 *
 * A bound SELECT (sql/bind.h) is compiled once, when the rule is created, into an ek_sql_program:
 * every expression of the statement becomes an ek_cexpr in which
 *   - fields are slot reads when the stream has a schema (rows are objects in schema order; the
 *     key at the slot is verified and a lookup by name is the fallback, so a row built without
 *     the schema still evaluates correctly),
 *   - calls hold their ek_func_def pointer and their own ek_func_ctx (per call site: analytic
 *     state per PARTITION BY key, function caches),
 *   - constant sub-expressions are folded, including calls of deterministic scalar functions,
 *   - constant LIKE patterns are compiled once into a small matcher.
 * Evaluation never parses and never looks a function up by name.
 *
 * Semantics (eKuiper's): int op int stays int (so / and % truncate), any float makes a float;
 * division or modulo by zero is an error; nil in arithmetic gives nil; nil compared with anything
 * is false (AND/OR with a nil operand are false, NOT nil is nil); strings compare with strings, datetimes with
 * datetimes, numbers (epoch ms) and RFC 3339 strings; booleans only with = and !=; mixing other
 * types is an evaluation error (EK_EEXEC, "invalid operation string(a) > bigint(1)").
 *
 * Threading: a program belongs to one rule and is evaluated by one thread at a time (the rule's
 * actor); call sites keep state, so two rules never share a program.
 *
 * How calls are made (the conventions sql/func_*.c rely on):
 *   - aggregate: each argument evaluated over the group, one EK_T_ARRAY per argument; `*` is the
 *     row's message object (count(*), collect(*)); FILTER (WHERE c) keeps only rows where c holds;
 *     deduplicate(col, all) also receives the group's rows as a third array;
 *   - analytic (kind EK_FUNC_ANALYTIC, or any call with OVER): one state (ek_func_ctx) per call site
 *     and PARTITION BY key; after the user's arguments one hidden bool is appended, the value of
 *     OVER (WHEN ...) (true without WHEN), and the function decides what "not updated" means;
 *   - changed_cols(prefix, ignoreNull, cols...): the columns are packed into one object argument
 *     ({name: value}; a wildcard adds the row's fields) and the result object is spread into the
 *     output row by ek_sql_project;
 *   - meta() and mqtt() receive their argument as a string, the key as written ("topic", "*",
 *     "a.b.c"), and read ctx->row->meta.
 *   - last_hit_count/time() and last_agg_hit_count/time(): one state per program (the rule's
 *     counter), every call site reads it (flag false); the counter advances once each time a
 *     WHERE / HAVING / sliding-window trigger that holds such a call is true (in
 *     ek_cexpr_eval_bool), or after each ek_sql_project when only the select list uses them. */
#ifndef EK_SQL_COMPILE_H
#define EK_SQL_COMPILE_H

#include "engine/err.h"
#include "engine/row.h"
#include "engine/value.h"
#include "sql/ast.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ek_cexpr ek_cexpr;

/* Everything an expression may read while evaluating. Zero-initialise and set what applies.
 *
 * - rows/nrows: the current tuple. rows[i] is the row of source i (0 = FROM, then the JOINs in
 *   order); NULL when an outer join found no match. A single-stream rule sets nrows = 1.
 * - group/group_len: the rows of the current group when evaluating per group (windows, GROUP
 *   BY): group_len tuples of nrows rows each, flattened: tuple g's source i is group[g*nrows+i].
 *   Aggregate calls evaluate their arguments over every tuple and pass one EK_T_ARRAY per
 *   argument (see sql/func.h). Outside an aggregate, a field reads the current tuple, which the
 *   caller should set to the group's first tuple (eKuiper's rule for non-aggregated columns).
 *   When group is NULL an aggregate sees the current tuple as a group of one.
 * - aliases: values of the select fields computed so far (ek_sql_project fills this itself).
 * - window bounds (ms) for window_start()/window_end(), rule id and start for rule_id() etc. */
typedef struct ek_eval_ctx {
    const ek_row *const *rows;
    size_t nrows;
    const ek_row *const *group;
    size_t group_len;
    const ek_value *aliases;
    size_t naliases;
    int64_t window_start_ms, window_end_ms;
    const char *rule_id;
    int64_t rule_start_ms;
    const struct ek_tz *tz;     /* basic.timezone for the time functions; NULL: UTC */
} ek_eval_ctx;

/* One output column of the projection. */
typedef struct ek_proj_field {
    const char *name;           /* output key (borrowed from the statement) */
    ek_value key;               /* the same as a shared string, set on every output object */
    ek_cexpr *expr;             /* NULL for a wildcard */
    bool wildcard;              /* * or s.*: copies the row's fields */
    int src;                    /* s.*: the source index; -1 for * (every source) */
    const ek_expr *wild;        /* the wildcard node (EXCEPT names) */
    ek_cexpr **replace;         /* * REPLACE(expr AS name): compiled exprs, names in wild */
    bool invisible;
    bool spread;                /* changed_cols(...): the result object's keys become output columns */
    bool multirow;              /* unnest()/extract(): the value is an array the engine turns into rows */
} ek_proj_field;

/* A compiled SELECT. Every member is NULL/0 when the clause is absent. The statement it was
 * compiled from must outlive it (names are borrowed). */
typedef struct ek_sql_program {
    const ek_select *sel;
    ek_proj_field *fields;
    size_t nfields;
    ek_cexpr *where;
    ek_cexpr **join_on;         /* [nsources]; [0] and CROSS joins are NULL */
    size_t nsources;
    ek_cexpr **group_by;
    size_t ngroup;
    ek_cexpr *having;
    ek_cexpr **order_by;        /* with sel->order[i].desc */
    size_t norder;
    /* the window's expressions */
    ek_cexpr *win_filter;       /* FILTER (WHERE ...) */
    ek_cexpr *win_trigger;      /* SLIDINGWINDOW OVER (WHEN ...) */
    ek_cexpr *state_begin, *state_emit;
    ek_cexpr **win_partition;   /* STATEWINDOW OVER (PARTITION BY ...) */
    size_t nwin_partition;
    bool aggregate;             /* evaluate per group (see ek_select_is_aggregate) */
    bool has_analytic;          /* some call is analytic (lag, latest, ... or OVER) */
} ek_sql_program;

typedef struct ek_compile_opts {
    bool ignore_case;           /* basic.ignoreCase: schemaless fields match keys case-insensitively */
} ek_compile_opts;

/* Compiles a bound SELECT (ek_sql_bind must have succeeded on stmt). opts may be NULL.
 * Returns 0 and a new program (ek_sql_program_free), or EK_EINVAL for a statement that is not a
 * SELECT. A constant that fails to fold (1/0) is kept and fails when evaluated, as in eKuiper. */
int ek_sql_compile(const ek_stmt *stmt, const ek_compile_opts *opts, ek_sql_program **out, ek_err *err);
/* Frees the program and its call-site state. Accepts NULL. */
void ek_sql_program_free(ek_sql_program *p);

/* Compiles one expression on its own (tests, sink templates). Unbound fields are looked up by
 * name in every row of the tuple; an unbound call fails when evaluated ("function f not found"). */
int ek_cexpr_compile(const ek_expr *e, ek_cexpr **out, ek_err *err);
void ek_cexpr_free(ek_cexpr *e);

/* Evaluates e into *out (owned by the caller; nil is EK_T_NULL). Returns 0 or EK_EEXEC with err. */
int ek_cexpr_eval(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err);
/* Evaluates a condition (WHERE, HAVING, ON, FILTER): nil and false are false; any other non-bool
 * is an error, as in eKuiper. A NULL e (the clause is absent) is true. */
int ek_cexpr_eval_bool(ek_cexpr *e, const ek_eval_ctx *ctx, bool *out, ek_err *err);
/* True when e was folded to a constant; *v then borrows it. */
bool ek_cexpr_const(const ek_cexpr *e, const ek_value **v);

/* Builds one output object for the current tuple (or group) as eKuiper does: fields in select
 * order, wildcards expanded (EXCEPT removed, REPLACE applied), nil results omitted, INVISIBLE
 * fields computed but not output; later fields see earlier aliases. *out is a new EK_T_OBJECT.
 * ctx->aliases is ignored (the function keeps its own). Returns 0 or EK_EEXEC. */
int ek_sql_project(ek_sql_program *p, const ek_eval_ctx *ctx, ek_value *out, ek_err *err);

/* eKuiper updates analytic functions (lag, latest, acc_*, ... and any call with OVER) for every
 * row before WHERE, so a row that WHERE drops still moves lag() along. A rule that wants this calls
 * ek_sql_update_analytic(p, ctx) on each row first: it evaluates every analytic call of the select
 * list and WHERE once and keeps the results, which the following ek_cexpr_eval / ek_sql_project of
 * the same row reuse. Without it analytic calls update only when they are evaluated. In windowed
 * rules the kept value is the last row's (per-row values are not stored in rows). */
int ek_sql_update_analytic(ek_sql_program *p, const ek_eval_ctx *ctx, ek_err *err);

/* Releases the per-call-site state of every call to the function name (every call when NULL), so
 * it starts afresh: e.g. row_number() at each window and partition. */
void ek_sql_program_reset_state(ek_sql_program *p, const char *name);

/* Checkpoints (program_state.c): the state of every analytic call site (lag, latest, acc_* ...,
 * per PARTITION BY key) as a new value in *out, and back into a program compiled from the same
 * statement that has not evaluated anything yet. A value that does not fit leaves the program
 * with no state and returns EK_EINVAL. Values go through JSON in a checkpoint, so a whole float
 * comes back as an integer, as the window rows of a checkpoint do. */
int ek_sql_program_snapshot(ek_sql_program *p, ek_value *out);
int ek_sql_program_restore(ek_sql_program *p, const ek_value *in, ek_err *err);

/* Evaluates the group key of the current tuple: an EK_T_ARRAY of the GROUP BY values. */
int ek_sql_group_key(ek_sql_program *p, const ek_eval_ctx *ctx, ek_value *out, ek_err *err);

#endif
