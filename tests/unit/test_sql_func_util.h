/* Helpers for the built-in function tests: call a function the way the engine will (by name
 * through ek_func_lookup(name)->exec), with arguments written as a JSON array, and compare the
 * result's JSON text, or the error, with what eKuiper documents. */
#ifndef EK_TEST_SQL_FUNC_UTIL_H
#define EK_TEST_SQL_FUNC_UTIL_H

#include "engine/codec_json.h"
#include "engine/mem.h"
#include "sql/func.h"
#include "tests/unit/test_util.h"

#include <string.h>

/* Parses a JSON array of arguments (integers stay integers). */
static inline ek_value fargs(const char *json)
{
    ek_value v;
    ek_err err = {0};
    if (ek_json_decode(json, strlen(json), 0, &v, &err) != 0 || v.type != EK_T_ARRAY) {
        fprintf(stderr, "bad test arguments %s: %s\n", json, err.msg);
        abort();
    }
    return v;
}

/* Calls name with n args and ctx (may be NULL for a fresh one); returns the exec result. */
static inline int fcallv(const char *name, ek_func_ctx *ctx, const ek_value *args, int n, ek_value *out, ek_err *err)
{
    const ek_func_def *def = ek_func_lookup(name);
    if (!def) {
        fprintf(stderr, "\n  function %s is not registered\n", name);
        CU_FAIL("function not registered");
        return -100;
    }
    ek_func_ctx local = {0};
    *out = ek_null();
    int rc = def->exec(ctx ? ctx : &local, args, n, out, err);
    if (!ctx) ek_func_ctx_release(&local);
    return rc;
}

static inline int fcall(const char *name, ek_func_ctx *ctx, const char *args_json, ek_value *out, ek_err *err)
{
    ek_value args = fargs(args_json);
    int rc = fcallv(name, ctx, args.a->items, (int)args.a->len, out, err);
    ek_value_unref(&args);
    return rc;
}

/* Checks that name(args) succeeds and its JSON text is expect. */
static inline void check_ctx_at(const char *name, ek_func_ctx *ctx, const char *args_json, const char *expect, int line)
{
    ek_value out;
    ek_err err = {0};
    int rc = fcall(name, ctx, args_json, &out, &err);
    if (rc != 0) {
        fprintf(stderr, "\n  line %d: %s%s failed: %s\n", line, name, args_json, err.msg);
        CU_FAIL("function failed");
        return;
    }
    char *got = ek_json_encode_str(&out, 0);
    if (strcmp(got, expect) != 0) fprintf(stderr, "\n  line %d: %s%s = %s, want %s\n", line, name, args_json, got, expect);
    CU_ASSERT_STRING_EQUAL(got, expect);
    ek_free(got);
    ek_value_unref(&out);
}

/* Checks that name(args) fails, names the function, and its message contains part. */
static inline void check_err_at(const char *name, const char *args_json, const char *part, int line)
{
    ek_value out;
    ek_err err = {0};
    int rc = fcall(name, NULL, args_json, &out, &err);
    if (rc == 0) {
        char *got = ek_json_encode_str(&out, 0);
        fprintf(stderr, "\n  line %d: %s%s = %s, want an error\n", line, name, args_json, got);
        ek_free(got);
        ek_value_unref(&out);
        CU_FAIL("expected an error");
        return;
    }
    CU_ASSERT(rc < 0);
    CU_ASSERT_EQUAL(err.code, rc);
    if (!strstr(err.msg, name) || !strstr(err.msg, part)) {
        fprintf(stderr, "\n  line %d: %s%s error \"%s\" should name the function and say \"%s\"\n", line, name, args_json, err.msg, part);
        CU_FAIL("error message");
    }
}

#define fcheck(name, args, expect) check_ctx_at(name, NULL, args, expect, __LINE__)
#define fcheck_ctx(name, ctx, args, expect) check_ctx_at(name, ctx, args, expect, __LINE__)
#define fcheck_err(name, args, part) check_err_at(name, args, part, __LINE__)

#endif
