/* The built-in function interface: how the expression compiler (compile.c) calls the function
 * library (func_*.c). Each func_*.c ends with a table of ek_func_def; func_registry.c joins the
 * tables and looks names up case-insensitively, once, when a rule is compiled.
 *
 * Calling convention:
 * - Scalar: args are the evaluated arguments of one row.
 * - Aggregate: args[i] is an EK_T_ARRAY holding argument i evaluated over every row of the group
 *   (as eKuiper passes []interface{}); the function reduces it to one value.
 * - Analytic (lag, latest, changed_col, acc_* ...): called once per row in arrival order with that
 *   row's args; per call-site (and per PARTITION BY key) state lives in ctx->state, which the
 *   function allocates on first use and frees through ctx->state_free.
 * - Multi-row (unnest, extract): returns an array; the engine turns it into several rows.
 * - Functions may keep a per-call-site cache in ctx->cache (a compiled regex for a pattern seen
 *   before, say), freed through ctx->cache_free when the rule is dropped.
 * A function returns 0 and sets *out (owned by the caller), or a negative EK_E* with err filled
 * ("lower: expected a string argument, got bigint"). Null in, null out, unless documented. */
#ifndef EK_SQL_FUNC_H
#define EK_SQL_FUNC_H

#include "engine/err.h"
#include "engine/row.h"
#include "engine/value.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum ek_func_kind {
    EK_FUNC_SCALAR,
    EK_FUNC_AGGREGATE,
    EK_FUNC_ANALYTIC,
    EK_FUNC_MULTIROW,
} ek_func_kind;

typedef struct ek_func_ctx {
    const char *rule_id;       /* "" outside a rule */
    int64_t rule_start_ms;     /* when the rule (this run) started */
    const ek_row *row;         /* the current row, for meta(), event_time() ...; may be NULL */
    int64_t window_start_ms;   /* 0 outside a window */
    int64_t window_end_ms;
    void *state;               /* analytic / stateful functions, per call site and partition */
    void (*state_free)(void *state);
    void *cache;               /* per call site, see above */
    void (*cache_free)(void *cache);
    const struct ek_tz *tz;    /* basic.timezone (sql/tz.h): format_time's wall clock; NULL: UTC */
} ek_func_ctx;

typedef int (*ek_func_exec)(ek_func_ctx *ctx, const ek_value *args, int nargs, ek_value *out, ek_err *err);

/* What the binder knows of an argument before the rule runs. */
typedef struct ek_func_arg_info {
    bool is_const;      /* a literal or folded constant: value is set */
    ek_value value;     /* borrowed */
    ek_type type;       /* known type, or EK_T_NULL when unknown (schemaless) */
} ek_func_arg_info;

/* Optional bind-time check beyond the argument count (types of constants, valid option names);
 * returns 0 or EK_EPLAN with err naming the function and the argument. */
typedef int (*ek_func_check)(const ek_func_arg_info *args, int nargs, ek_err *err);

typedef struct ek_func_def {
    const char *name;    /* eKuiper's name, lower case */
    ek_func_kind kind;
    int min_args, max_args;  /* max_args -1: variadic */
    ek_func_exec exec;
    ek_func_check check;     /* may be NULL */
    bool deterministic;      /* may be folded when every argument is constant */
} ek_func_def;

/* The definition for name (case-insensitive), or NULL. */
const ek_func_def *ek_func_lookup(const char *name);
/* Calls fn(def, arg) for every registered function, in a stable order (docs, /metadata/functions). */
void ek_func_foreach(void (*fn)(const ek_func_def *def, void *arg), void *arg);
/* Frees ctx->state and ctx->cache through their free functions and clears them. */
void ek_func_ctx_release(ek_func_ctx *ctx);
/* Checkpoints (func_analytic.c): the state an analytic function keeps in ctx (lag's last values,
 * latest, had_changed, the acc_* accumulators) as a new value in *out; false when ctx holds no
 * state of those functions. ek_func_state_load puts such a value back into a ctx holding no
 * state; EK_EINVAL when it is not one. */
bool ek_func_state_save(const ek_func_ctx *ctx, ek_value *out);
int ek_func_state_load(ek_func_ctx *ctx, const ek_value *in);

#endif
