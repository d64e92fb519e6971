/* Private to compile.c, eval.c and like.c: the compiled expression node. Each node is one
 * operation with its operands already compiled; see compile.h for the semantics. */
#ifndef EK_SQL_COMPILE_INT_H
#define EK_SQL_COMPILE_INT_H

#include "sql/compile.h"
#include "sql/func.h"

typedef enum cop {
    C_CONST,        /* val */
    C_FIELD,        /* src, slot, name: a column of the current tuple */
    C_ROW,          /* the whole row: count(*), collect(*) */
    C_WILD,         /* * EXCEPT(...) REPLACE(...) as a value: wild, src, kids = replace exprs */
    C_PACK,         /* changed_cols' columns packed into one object: kids, names[i] ("" spreads an object) */
    C_ALIAS,        /* alias_idx: an earlier select field's value */
    C_NEG, C_NOT,
    C_ARITH,        /* bop: + - * / % & | ^ */
    C_CMP,          /* bop: = != < <= > >= */
    C_AND, C_OR,
    C_DEREF,        /* a->name */
    C_INDEX,        /* a[b] */
    C_SLICE,        /* a[b:c] */
    C_LIKE,         /* a LIKE b (pat precompiled when b is constant) */
    C_IN,           /* a IN (kids...) or a IN b */
    C_BETWEEN,      /* a BETWEEN b AND c */
    C_ISNULL,
    C_CASE,         /* a (simple) or NULL; kids = cond0, res0, cond1, res1 ...; c = ELSE */
    C_CALL,         /* scalar / multi-row call */
    C_AGG,          /* aggregate call over the group */
    C_ANALYTIC,     /* analytic call with per-partition state */
} cop;

typedef struct like_pat like_pat;

/* Per PARTITION BY key state of an analytic call site. */
typedef struct part_state {
    ek_value key;   /* EK_T_ARRAY of the partition values, or null without PARTITION BY */
    ek_func_ctx fctx;
} part_state;

struct ek_cexpr {
    cop op;
    ek_op bop;
    bool negated;
    bool ci;                    /* FIELD/DEREF: case-insensitive key lookup */
    ek_cexpr *a, *b, *c;
    ek_cexpr **kids;
    size_t nkids;
    ek_value val;               /* CONST */
    char *name;                 /* FIELD, DEREF, CALL (for messages) */
    size_t name_len;
    int src, slot, alias_idx;
    const ek_func_def *def;
    ek_func_ctx fctx;           /* CALL, AGG: per call site */
    ek_cexpr *filter;           /* AGG: FILTER (WHERE ...) */
    ek_cexpr **partition;       /* ANALYTIC */
    size_t npartition;
    ek_cexpr *when;             /* ANALYTIC: OVER (WHEN ...) */
    part_state *parts;
    size_t nparts;
    like_pat *pat;              /* LIKE with a constant pattern */
    const ek_expr *wild;        /* WILD: the wildcard node (EXCEPT and REPLACE names; borrowed) */
    char **names;               /* PACK: the key of each kid */
    ek_func_ctx *shared;        /* ANALYTIC: the rule-wide state of last_hit_* / last_agg_hit_* (program's) */
    bool read_only;             /* ANALYTIC: pass false as the hidden flag (hit counters read, never advance) */
    ek_cexpr *commit;           /* a condition root: evaluated once when the condition is true (hit counters) */
    bool has_cached;            /* ANALYTIC: computed by ek_sql_update_analytic for the current row */
    ek_value cached;
    bool hidden_when;           /* ANALYTIC: append the OVER (WHEN ...) flag as a last argument */
};

/* like.c: LIKE patterns (% any sequence, _ one character, \ escapes). */
like_pat *ek_like_compile(const char *pat, size_t len);
bool ek_like_match(const like_pat *p, const char *s, size_t len);
void ek_like_free(like_pat *p);

/* eval.c helpers shared with compile.c */
int ek_eval__node(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err);
/* eval.c: merges the current tuple's fields (of source src, or all when -1) into the object *obj,
 * leaving out EXCEPT names and applying REPLACE (replace[i] computes wild->replace_names[i]). */
int ek_eval__wildcard(const ek_expr *wild, int src, ek_cexpr **replace, const ek_eval_ctx *ctx, ek_value *obj,
                      ek_err *err);
/* eval_time.c: parses "2006-01-02T15:04:05[.fff](Z|+07:00)" or "2006-01-02 15:04:05[.fff]" (UTC)
 * into ns since the epoch, for comparing a datetime with a string. */
bool ek_eval__parse_time(const char *s, size_t len, int64_t *ns);
/* How compile.c compiles one expression: case-insensitive keys; with inline_aliases set, references
 * to that select's aliases compile as the aliased expressions (HAVING, ORDER BY); hit_ctx[0] and
 * [1] are the program's shared states of last_hit_* and last_agg_hit_*, and hits[] counts the calls
 * of each family compiled so far. */
typedef struct ek_compile_env {
    bool ignore_case;
    const ek_select *inline_aliases;
    ek_func_ctx *hit_ctx;
    int hits[2];
} ek_compile_env;

/* Which hit-counter family a function belongs to: 0 last_hit_*, 1 last_agg_hit_*, -1 neither. */
int ek_compile__hit_family(const char *name);
/* compile.c: compiles one bound expression (NULL gives NULL). */
ek_cexpr *ek_compile__expr(const ek_expr *e, ek_compile_env *env);
/* A node that advances the hit counter of a family once (a call with the flag true). */
ek_cexpr *ek_compile__hit_commit(int family, ek_func_ctx *shared);
/* eval.c: the value of a constant or field node without taking a reference (a row's or the
 * tree's; a static nil for a missing field), or NULL for any other node. */
const ek_value *ek_eval__borrow(const ek_cexpr *e, const ek_eval_ctx *ctx);
/* eval_call.c */
int ek_eval__call(ek_cexpr *e, const ek_eval_ctx *ctx, ek_value *out, ek_err *err);
void ek_eval__free_parts(ek_cexpr *e);
/* Evaluates an analytic node now and keeps the result for the next evaluation of this row. */
int ek_eval__analytic_now(ek_cexpr *e, const ek_eval_ctx *ctx, ek_err *err);
/* program.c: calls fn on every node of every clause of p, children first, in a fixed order (the
 * same for two programs compiled from the same statement). */
void ek_compile__walk_program(ek_sql_program *p, void (*fn)(ek_cexpr *e, void *arg), void *arg);

#endif
