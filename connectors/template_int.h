/* Inside the template engine (template.h): the parse tree shared by template.c (lexing and
 * parsing, done once at rule creation) and template_exec.c (evaluation and the function table).
 * The tree is immutable after compile; evaluation keeps its state (variables) on its own stack. */
#ifndef EK_TEMPLATE_INT_H
#define EK_TEMPLATE_INT_H

#include "connectors/template.h"
#include "engine/value.h"

typedef struct tpl_pipe tpl_pipe;
typedef struct tpl_node tpl_node;

typedef enum { TA_DOT, TA_FIELD, TA_VAR, TA_LIT, TA_PIPE, TA_FUNC, TA_NIL } tpl_arg_kind;

/* One operand of a command: .a.b (TA_FIELD: path on dot), $x.a (TA_VAR: name plus path),
 * a literal, (sub pipeline).a, a function name, nil. */
typedef struct tpl_arg {
    tpl_arg_kind kind;
    char *name;       /* variable name with '$', or function name */
    char **path;      /* field chain */
    int npath;
    ek_value lit;     /* TA_LIT */
    tpl_pipe *sub;    /* TA_PIPE */
    int fn;           /* TA_FUNC: index in the function table */
} tpl_arg;

typedef struct tpl_cmd {
    tpl_arg *args;
    int nargs;
} tpl_cmd;

struct tpl_pipe {
    char *decl[2];    /* declared or assigned variables ($x, or $i, $v in range) */
    int ndecl;
    int assign;       /* 1 for '=', 0 for ':=' */
    tpl_cmd *cmds;
    int ncmds;
};

typedef enum { TN_TEXT, TN_ACTION, TN_IF, TN_RANGE, TN_WITH } tpl_node_kind;

typedef struct tpl_list {
    tpl_node **items;
    int len, cap;
} tpl_list;

struct tpl_node {
    tpl_node_kind kind;
    char *text;       /* TN_TEXT */
    size_t len;
    tpl_pipe *pipe;   /* everything else */
    tpl_list body, alt;  /* if/range/with: the body and the {{else}} part */
};

struct ek_template {
    tpl_list root;
};

/* The function table (template_funcs.c): the index of a name, or -1. A function gets its evaluated
 * arguments (borrowed) and sets *out (owned by the caller) or fails with EK_EEXEC and err. */
typedef struct tpl_func {
    const char *name;
    int min, max;   /* argument count; max -1: any */
    int (*fn)(ek_err *err, ek_value *args, int n, ek_value *out);
} tpl_func;
extern const tpl_func tpl__funcs[];
int tpl__func_index(const char *name);
void tpl__list_free(tpl_list *l);

/* Printing and truth as Go's text/template (template_exec.c). top: a value printed by an action
 * (null is <no value>) rather than inside a container or by printf (<nil>). */
void tpl__print_value(const ek_value *v, int top, ek_buf *out);
void tpl__go_float(double f, ek_buf *out);
bool tpl__truth(const ek_value *v);
const char *tpl__go_type(const ek_value *v);

#endif
