/* The registry of built-in SQL functions: joins the ek_func_def tables that end each func_*.c
 * and answers lookups by name (case-insensitive). Tables are const and the index is built once,
 * on first use, so lookups from several threads are safe. */
#include "sql/func.h"
#include "sql/func_int.h"
#include "engine/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Each func_*.c defines one table ending with a {NULL} entry; add it here. */
static const ek_func_def *const tables[] = {
    ek_funcs_math,
    ek_funcs_str,
    ek_funcs_conv,
    ek_funcs_hash,
    ek_funcs_json,
    ek_funcs_array,
    ek_funcs_obj,
    ek_funcs_time,
    ek_funcs_agg,
    ek_funcs_analytic,
    ek_funcs_other,
    ek_funcs_multirow,
    NULL,
};

static const ek_func_def **index_defs;
static size_t index_len;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static int cmp_def(const void *a, const void *b)
{
    return strcasecmp((*(const ek_func_def *const *)a)->name, (*(const ek_func_def *const *)b)->name);
}

static void build_index(void)
{
    size_t n = 0;
    for (size_t t = 0; tables[t]; t++)
        for (const ek_func_def *d = tables[t]; d->name; d++) n++;
    index_defs = ek_malloc((n ? n : 1) * sizeof *index_defs);
    for (size_t t = 0; tables[t]; t++)
        for (const ek_func_def *d = tables[t]; d->name; d++) index_defs[index_len++] = d;
    qsort(index_defs, index_len, sizeof *index_defs, cmp_def);
}

const ek_func_def *ek_func_lookup(const char *name)
{
    pthread_once(&index_once, build_index);
    size_t lo = 0, hi = index_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcasecmp(name, index_defs[mid]->name);
        if (c == 0) return index_defs[mid];
        if (c < 0) hi = mid; else lo = mid + 1;
    }
    return NULL;
}

void ek_func_foreach(void (*fn)(const ek_func_def *def, void *arg), void *arg)
{
    pthread_once(&index_once, build_index);
    for (size_t i = 0; i < index_len; i++) fn(index_defs[i], arg);
}

void ek_func_ctx_release(ek_func_ctx *ctx)
{
    if (ctx->state && ctx->state_free) ctx->state_free(ctx->state);
    if (ctx->cache && ctx->cache_free) ctx->cache_free(ctx->cache);
    ctx->state = ctx->cache = NULL;
    ctx->state_free = ctx->cache_free = NULL;
}
