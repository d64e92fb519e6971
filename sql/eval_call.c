/* Function calls in the evaluator: scalar calls (arguments of the current tuple), aggregate
 * calls (each argument evaluated over every tuple of the group, passed as one EK_T_ARRAY, as
 * sql/func.h describes) and analytic calls (state per call site and PARTITION BY key, updated
 * only when OVER (WHEN ...) holds; otherwise the last result is returned again). */
#include "engine/mem.h"
#include "sql/compile_int.h"

#include <stdint.h>
#include <string.h>

static void fill_fctx(ek_func_ctx *f, const ek_eval_ctx *ctx)
{
    f->rule_id = ctx->rule_id ? ctx->rule_id : "";
    f->rule_start_ms = ctx->rule_start_ms;
    f->tz = ctx->tz;
    f->row = NULL;
    for (size_t i = 0; i < ctx->nrows && !f->row; i++) f->row = ctx->rows[i];
    f->window_start_ms = ctx->window_start_ms;
    f->window_end_ms = ctx->window_end_ms;
}

static void free_args(ek_value *args, size_t n)
{
    for (size_t i = 0; i < n; i++) ek_value_unref(&args[i]);
}

/* Calls def with args (borrowed) through fctx; prefixes errors with the function name. */
static int invoke(ek_cexpr *e, ek_func_ctx *fctx, const ek_value *args, size_t n, ek_value *out, ek_err *err)
{
    *out = ek_null();
    ek_err ferr = {0};
    int rc = e->def->exec(fctx, args, (int)n, out, &ferr);
    if (rc) {
        ek_value_unref(out);
        return ek_err_set(err, EK_EEXEC, "call func %s error: %s", e->def->name, ferr.msg[0] ? ferr.msg : ek_strerror(rc));
    }
    return 0;
}

/* Releases the arguments eval_args evaluated (those it borrowed are left alone). */
static void release_args(ek_value *args, size_t n, uint64_t borrowed)
{
    for (size_t i = 0; i < n; i++)
        if (i >= 64 || !(borrowed >> i & 1)) ek_value_unref(&args[i]);
}

/* Evaluates a call's arguments. Constants and fields are passed as shallow copies without a
 * reference (functions only borrow their arguments); *borrowed marks them (the first 64). */
static int eval_args(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *args, uint64_t *borrowed, ek_err *err)
{
    *borrowed = 0;
    for (size_t i = 0; i < e->nkids; i++) {
        const ek_value *b = i < 64 ? ek_eval__borrow(e->kids[i], ctx) : NULL;
        if (b) {
            args[i] = *b;
            *borrowed |= (uint64_t)1 << i;
            continue;
        }
        int rc = ek_eval__node(e->kids[i], ctx, &args[i], err);
        if (rc) {
            release_args(args, i, *borrowed);
            return rc;
        }
    }
    return 0;
}

static int eval_scalar(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    if (!e->def) return ek_err_set(err, EK_EEXEC, "function %s not found", e->name);
    ek_value stack[8];
    ek_value *args = e->nkids <= 8 ? stack : ek_malloc(e->nkids * sizeof *args);
    uint64_t borrowed;
    int rc = eval_args(e, ctx, args, &borrowed, err);
    if (!rc) {
        fill_fctx(&e->fctx, ctx);
        rc = invoke(e, &e->fctx, args, e->nkids, out, err);
        release_args(args, e->nkids, borrowed);
    }
    if (args != stack) ek_free(args);
    return rc;
}

/* ---------------------------------------------------------------- aggregates */

static int eval_agg(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    size_t n = e->nkids, nrows = ctx->nrows;
    const ek_row *const *group = ctx->group ? ctx->group : ctx->rows;
    size_t len = ctx->group ? ctx->group_len : (nrows ? 1 : 0);
    ek_value *arrays = ek_malloc((n ? n : 1) * sizeof *arrays);
    for (size_t i = 0; i < n; i++) arrays[i] = ek_array_new(len);
    ek_eval_ctx one = *ctx;
    one.group = NULL;
    one.group_len = 0;
    int rc = 0;
    for (size_t g = 0; g < len && !rc; g++) {
        one.rows = group + g * nrows;
        if (e->filter) {
            bool keep = false;
            if ((rc = ek_cexpr_eval_bool(e->filter, &one, &keep, err)) || !keep) continue;
        }
        for (size_t i = 0; i < n && !rc; i++) {
            ek_value v;
            if ((rc = ek_eval__node(e->kids[i], &one, &v, err)) == 0) ek_array_push(&arrays[i], v);
        }
    }
    if (!rc) {
        fill_fctx(&e->fctx, ctx);
        rc = invoke(e, &e->fctx, arrays, n, out, err);
    }
    free_args(arrays, n);
    ek_free(arrays);
    return rc;
}

/* ---------------------------------------------------------------- analytic calls */

static bool same_key(const ek_value *a, const ek_value *b)
{
    return ek_value_compare(a, b) == 0;
}

static part_state *partition_of(ek_cexpr *e, const ek_eval_ctx *ctx, ek_err *err, int *rc)
{
    ek_value key = ek_null();
    *rc = 0;
    if (e->npartition) {
        key = ek_array_new(e->npartition);
        for (size_t i = 0; i < e->npartition; i++) {
            ek_value v;
            if ((*rc = ek_eval__node(e->partition[i], ctx, &v, err))) {
                ek_value_unref(&key);
                return NULL;
            }
            ek_array_push(&key, v);
        }
    }
    /* Partitions are few in practice (devices, lines); a linear scan keeps this simple. */
    for (size_t i = 0; i < e->nparts; i++) {
        if (same_key(&e->parts[i].key, &key)) {
            ek_value_unref(&key);
            return &e->parts[i];
        }
    }
    e->parts = ek_realloc(e->parts, (e->nparts + 1) * sizeof *e->parts);
    part_state *p = &e->parts[e->nparts++];
    memset(p, 0, sizeof *p);
    p->key = key;
    return p;
}

/* The function keeps its own state and decides what an OVER (WHEN ...) that is false means: it
 * receives the condition as one hidden trailing bool (func_analytic.c). */
static int eval_analytic(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    if (e->has_cached) {  /* already updated for this row before WHERE */
        *out = ek_value_ref(&e->cached);
        return 0;
    }
    int rc = 0;
    part_state *p = e->shared ? NULL : partition_of(e, ctx, err, &rc);
    if (!p && !e->shared) return rc;
    ek_func_ctx *fctx = e->shared ? e->shared : &p->fctx;
    bool on = !e->read_only;
    if (e->when && (rc = ek_cexpr_eval_bool(e->when, ctx, &on, err))) return rc;
    size_t n = e->nkids + (e->hidden_when ? 1 : 0);
    ek_value stack[8];
    ek_value *args = n <= 8 ? stack : ek_malloc(n * sizeof *args);
    uint64_t borrowed;
    rc = eval_args(e, ctx, args, &borrowed, err);
    if (!rc) {
        if (e->hidden_when) args[e->nkids] = ek_bool(on && !e->read_only);
        fill_fctx(fctx, ctx);
        rc = invoke(e, fctx, args, n, out, err);
        release_args(args, e->nkids, borrowed);
    }
    if (args != stack) ek_free(args);
    return rc;
}

int ek_eval__analytic_now(ek_cexpr *e, const ek_eval_ctx *ctx, ek_err *err)
{
    ek_value_unref(&e->cached);
    e->has_cached = false;
    int rc = eval_analytic(e, ctx, &e->cached, err);
    if (rc == 0) e->has_cached = true;
    else e->cached = ek_null();
    return rc;
}

void ek_eval__free_parts(ek_cexpr *e)
{
    ek_value_unref(&e->cached);
    e->has_cached = false;
    for (size_t i = 0; i < e->nparts; i++) {
        ek_value_unref(&e->parts[i].key);
        ek_func_ctx_release(&e->parts[i].fctx);
    }
    ek_free(e->parts);
    e->parts = NULL;
    e->nparts = 0;
}

int ek_eval__call(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err)
{
    switch (e->op) {
    case C_AGG: return eval_agg(e, ctx, out, err);
    case C_ANALYTIC: return eval_analytic(e, ctx, out, err);
    default: return eval_scalar(e, ctx, out, err);
    }
}
