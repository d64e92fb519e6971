/* The SQL abstract syntax tree: what sql/parser.c builds and everything after it reads.
 *
 * One tree per statement (ek_stmt). Expressions (ek_expr) carry their source position so the
 * binder can say "line 1, column 23: unknown field ...". The binder (sql/bind.c) annotates the
 * tree in place (the `bound` part of a node: which source a field comes from, its slot, the
 * function definition of a call, the output key of a select field); the compiler (sql/compile.c)
 * then turns bound expressions into evaluable programs. Nothing here evaluates anything.
 *
 * Ownership: a statement owns its whole tree; ek_stmt_free() releases it. Strings are plain
 * NUL-terminated heap strings (ek_malloc), lists are arrays with a count. Identifiers keep the
 * case the user wrote; keywords are recognised case-insensitively by the lexer. */
#ifndef EK_SQL_AST_H
#define EK_SQL_AST_H

#include "engine/buf.h"
#include "engine/value.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ek_func_def;

/* ---------------------------------------------------------------- types (CREATE STREAM) */

typedef struct ek_col_def ek_col_def;

/* A column type. kind is one of EK_T_INT (bigint), EK_T_FLOAT, EK_T_STRING, EK_T_DATETIME,
 * EK_T_BOOL, EK_T_BYTES (bytea), EK_T_ARRAY (elem set) or EK_T_OBJECT (struct, fields set). */
typedef struct ek_sql_type {
    ek_type kind;
    struct ek_sql_type *elem;   /* ARRAY(elem) */
    ek_col_def *fields;         /* STRUCT(f type, ...) */
    size_t nfields;
} ek_sql_type;

struct ek_col_def {
    char *name;
    ek_sql_type type;
    bool has_default;
    ek_value def;               /* DEFAULT literal (owned) when has_default */
};

/* The 16 WITH properties eKuiper accepts (keys are case-insensitive). */
typedef enum ek_stream_prop {
    EK_PROP_DATASOURCE,
    EK_PROP_FORMAT,
    EK_PROP_TYPE,
    EK_PROP_KEY,
    EK_PROP_CONF_KEY,
    EK_PROP_EXTRA,
    EK_PROP_SHARED,
    EK_PROP_TIMESTAMP,
    EK_PROP_TIMESTAMP_FORMAT,
    EK_PROP_STRICT_VALIDATION,
    EK_PROP_SCHEMAID,
    EK_PROP_DELIMITER,
    EK_PROP_RETAIN_SIZE,
    EK_PROP_KIND,
    EK_PROP_VERSION,
    EK_PROP_TEMP,
    EK_PROP_COUNT
} ek_stream_prop;

/* "DATASOURCE", "FORMAT", ... (upper case, as eKuiper prints them in DESCRIBE). */
const char *ek_stream_prop_name(ek_stream_prop p);
/* The property for a key (case-insensitive), or -1. */
int ek_stream_prop_lookup(const char *key);

typedef struct ek_create_stmt {
    char *name;
    bool is_table;
    bool schemaless;            /* written as "()" */
    ek_col_def *cols;
    size_t ncols;
    /* props[p] is the value of property p as written (TRUE/FALSE become "true"/"false"), or NULL. */
    char *props[EK_PROP_COUNT];
} ek_create_stmt;

/* ---------------------------------------------------------------- expressions */

typedef enum ek_expr_kind {
    EK_E_LIT,       /* lit */
    EK_E_FIELD,     /* [qualifier.]name */
    EK_E_WILDCARD,  /* select * [EXCEPT(...)] [REPLACE(...)], s.*, or * as a call argument: count(*) */
    EK_E_UNARY,     /* op a */
    EK_E_BINARY,    /* a op b (arithmetic, bitwise, comparison, AND, OR) */
    EK_E_DEREF,     /* a->name or a.name where a is not a stream */
    EK_E_INDEX,     /* a[b] */
    EK_E_SLICE,     /* a[b:c], b and/or c may be NULL */
    EK_E_LIKE,      /* a [NOT] LIKE b */
    EK_E_IN,        /* a [NOT] IN (list...) or a [NOT] IN b (an array expression) */
    EK_E_BETWEEN,   /* a [NOT] BETWEEN b AND c */
    EK_E_ISNULL,    /* a IS [NOT] NULL (extension; eKuiper uses isNull(a)) */
    EK_E_CASE,      /* CASE [a] WHEN .. THEN .. [ELSE ..] END */
    EK_E_CALL,      /* name(args) [FILTER (WHERE ..)] [OVER (PARTITION BY .. WHEN ..)] */
} ek_expr_kind;

typedef enum ek_op {
    EK_OP_NONE = 0,
    /* unary */
    EK_OP_NEG, EK_OP_PLUS, EK_OP_NOT,
    /* arithmetic and bitwise */
    EK_OP_ADD, EK_OP_SUB, EK_OP_MUL, EK_OP_DIV, EK_OP_MOD,
    EK_OP_BITAND, EK_OP_BITOR, EK_OP_BITXOR,
    /* comparison */
    EK_OP_EQ, EK_OP_NE, EK_OP_LT, EK_OP_LE, EK_OP_GT, EK_OP_GE,
    /* logic */
    EK_OP_AND, EK_OP_OR,
} ek_op;

/* "+", "AND", "NOT", ... as the printer writes them. */
const char *ek_op_name(ek_op op);

typedef struct ek_expr ek_expr;

typedef struct ek_expr_list {
    ek_expr **items;
    size_t count;
} ek_expr_list;

typedef struct ek_when {
    ek_expr *cond;              /* the WHEN value (simple CASE) or condition (searched CASE) */
    ek_expr *result;
} ek_when;

/* Where a FROM/JOIN source's field lives; filled by the binder. */
typedef enum ek_field_bind {
    EK_FB_UNBOUND = 0,
    EK_FB_COLUMN,               /* a field of source `src`; slot >= 0 when its schema fixes the order */
    EK_FB_ALIAS,                /* an earlier select field's alias: alias_idx */
    EK_FB_NESTED,               /* written a.b but a is not a source: compiled as field a -> b */
} ek_field_bind;

struct ek_expr {
    ek_expr_kind kind;
    int line, col;              /* 1-based position of the expression's first token */
    ek_op op;                   /* UNARY, BINARY */
    bool negated;               /* NOT LIKE, NOT IN, NOT BETWEEN, IS NOT NULL */
    ek_expr *a, *b, *c;         /* operands, see ek_expr_kind */
    ek_value lit;               /* LIT (owned) */
    char *qualifier;            /* FIELD: stream or alias name before '.', or NULL; WILDCARD: s in s.* */
    char *name;                 /* FIELD, DEREF: the name; CALL: function name as written */
    ek_expr_list args;          /* CALL arguments; IN list */
    bool in_list;               /* IN: true for (list), false for an array expression in b */
    ek_when *whens;             /* CASE */
    size_t nwhens;
    ek_expr *else_;             /* CASE ELSE, or NULL */
    /* CALL extras */
    ek_expr *filter;            /* f(x) FILTER (WHERE cond) */
    bool has_over;              /* an OVER (...) clause was written */
    ek_expr_list partition;     /* OVER (PARTITION BY e, ...) */
    ek_expr *over_when;         /* OVER (WHEN cond) */
    /* WILDCARD extras */
    char **except;              /* * EXCEPT(a, b) */
    size_t nexcept;
    ek_expr_list replace;       /* * REPLACE(expr AS c, ...): each item is an expression ... */
    char **replace_names;       /* ... and replace_names[i] its output name */
    /* ---- filled by the binder (sql/bind.c) ---- */
    struct {
        ek_field_bind how;      /* FIELD */
        int src;                /* FIELD: index of the source in ek_select.sources; -1 when it can only be
                                 * known at run time (several schemaless sources: every row is tried) */
        int slot;               /* FIELD: schema slot, -1 when schemaless or unknown */
        ek_type type;           /* FIELD: declared type, EK_T_NULL when unknown */
        int alias_idx;          /* FIELD bound to an alias: index into ek_select.fields */
        const struct ek_func_def *def; /* CALL */
        bool aggregate;         /* CALL of an aggregate function, or any node containing one */
    } bound;
};

/* ---------------------------------------------------------------- SELECT */

typedef struct ek_select_field {
    ek_expr *expr;
    char *alias;                /* AS alias, or NULL */
    bool invisible;             /* INVISIBLE: computed, visible to later fields, not output */
    char *out_name;             /* output key, filled by the binder (alias, column, function or kuiper_field_N) */
} ek_select_field;

typedef enum ek_join_kind {
    EK_JOIN_NONE = 0,           /* the FROM source */
    EK_JOIN_INNER, EK_JOIN_LEFT, EK_JOIN_RIGHT, EK_JOIN_FULL, EK_JOIN_CROSS,
} ek_join_kind;

/* sources[0] is FROM; each later one is a JOIN with its kind and ON condition (NULL for CROSS). */
typedef struct ek_source {
    char *name;
    char *alias;                /* AS alias, or NULL */
    ek_join_kind join;
    ek_expr *on;
    int line, col;
} ek_source;

typedef enum ek_window_kind {
    EK_WIN_NONE = 0,
    EK_WIN_TUMBLING,            /* TUMBLINGWINDOW(unit, length) */
    EK_WIN_HOPPING,             /* HOPPINGWINDOW(unit, length, interval) */
    EK_WIN_SLIDING,             /* SLIDINGWINDOW(unit, length[, delay]) [OVER (WHEN cond)] */
    EK_WIN_SESSION,             /* SESSIONWINDOW(unit, max_duration, timeout) */
    EK_WIN_COUNT,               /* COUNTWINDOW(count[, interval]) */
    EK_WIN_STATE,               /* STATEWINDOW(begin[, emit]) [OVER (PARTITION BY ...)] */
} ek_window_kind;

/* Lengths are in milliseconds for time windows (the unit is applied by the parser) and plain
 * counts for COUNTWINDOW. 0 means "not given". */
typedef struct ek_window {
    ek_window_kind kind;
    char unit[3];               /* "dd", "hh", "mi", "ss", "ms" as written (lower case); "" for count/state */
    int64_t length;             /* tumbling/hopping/sliding length, session max duration, count */
    int64_t interval;           /* hopping hop, session timeout, count interval */
    int64_t delay;              /* sliding delay */
    ek_expr *begin, *emit;      /* STATEWINDOW conditions (emit may be NULL) */
    ek_expr *filter;            /* FILTER (WHERE cond): filters the window's input */
    ek_expr *trigger;           /* SLIDINGWINDOW ... OVER (WHEN cond) */
    ek_expr_list partition;     /* STATEWINDOW ... OVER (PARTITION BY ...) */
    int line, col;
} ek_window;

/* "TUMBLINGWINDOW", ... */
const char *ek_window_kind_name(ek_window_kind k);

typedef struct ek_order_item {
    ek_expr *expr;
    bool desc;
} ek_order_item;

typedef struct ek_select {
    ek_select_field *fields;
    size_t nfields;
    ek_source *sources;         /* [0] FROM, [1..] joins */
    size_t nsources;
    ek_expr *where;
    ek_expr_list group_by;      /* without the window */
    ek_window *window;          /* or NULL */
    ek_expr *having;
    ek_order_item *order;
    size_t norder;
    int64_t limit;              /* -1: none */
} ek_select;

/* ---------------------------------------------------------------- statements */

typedef enum ek_stmt_kind {
    EK_STMT_SELECT,
    EK_STMT_CREATE,             /* stream or table: create.is_table */
    EK_STMT_DROP,               /* target_table says which; name */
    EK_STMT_SHOW,               /* SHOW STREAMS / SHOW TABLES */
    EK_STMT_DESCRIBE,           /* DESCRIBE STREAM|TABLE name */
    EK_STMT_EXPLAIN,            /* EXPLAIN STREAM|TABLE name */
} ek_stmt_kind;

typedef struct ek_stmt {
    ek_stmt_kind kind;
    bool target_table;          /* DROP/SHOW/DESCRIBE/EXPLAIN: TABLE(S) rather than STREAM(S) */
    char *name;                 /* DROP/DESCRIBE/EXPLAIN target */
    ek_select select;           /* SELECT */
    ek_create_stmt create;      /* CREATE */
} ek_stmt;

/* ---------------------------------------------------------------- constructors and lifetime */

ek_expr *ek_expr_new(ek_expr_kind kind, int line, int col);
/* Frees e and everything under it. Accepts NULL. */
void ek_expr_free(ek_expr *e);
/* Appends e to list, taking it. */
void ek_expr_list_push(ek_expr_list *l, ek_expr *e);
void ek_expr_list_free(ek_expr_list *l);
void ek_sql_type_free(ek_sql_type *t);   /* frees what t owns, not t itself */
void ek_window_free(ek_window *w);
void ek_stmt_free(ek_stmt *s);           /* accepts NULL */

/* ---------------------------------------------------------------- printing (tests, EXPLAIN, errors) */

/* Appends a canonical, fully parenthesised text of e: "((a + 1) > 2)", "avg(size)",
 * "CASE WHEN (a > 1) THEN 'x' ELSE 'y' END", "s.a", "(a -> b)", "a[1:3]". */
void ek_expr_print(const ek_expr *e, ek_buf *out);
/* Appends a canonical text of a statement, one clause after another on one line. */
void ek_stmt_print(const ek_stmt *s, ek_buf *out);
/* Appends a type as eKuiper's DESCRIBE prints it: "bigint", "array(string)", "struct(a bigint, b float)". */
void ek_sql_type_print(const ek_sql_type *t, ek_buf *out);
/* Convenience: a new string with ek_stmt_print's text (ek_free it). */
char *ek_stmt_to_string(const ek_stmt *s);
char *ek_expr_to_string(const ek_expr *e);

#endif
