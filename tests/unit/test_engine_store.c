/* Unit tests for the SQLite key-value store: values survive a close and reopen, namespaces are
 * separate, a second opener and a corrupt file get clear errors. */
#include "engine/mem.h"
#include "engine/store.h"
#include "tests/unit/test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];

static char *db_path(const char *name)
{
    return ek_asprintf("%s/%s", dir, name);
}

static int count_keys(const char *key, const char *val, size_t len, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static void test_set_get_survives_reopen(void)
{
    snprintf(dir, sizeof dir, "/tmp/ek-store-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    char *path = db_path("kv.db");
    ek_store *s = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_store_open(path, &s, &err), 0);
    CU_ASSERT_EQUAL(ek_store_set(s, "stream", "demo", "{\"sql\":\"x\"}", 11, &err), 0);
    CU_ASSERT_EQUAL(ek_store_set(s, "rule", "demo", "r", 1, &err), 0);
    CU_ASSERT_EQUAL(ek_store_set(s, "stream", "demo", "{\"sql\":\"y\"}", 11, &err), 0);
    ek_store_close(s);

    CU_ASSERT_EQUAL_FATAL(ek_store_open(path, &s, &err), 0);
    char *val = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(ek_store_get(s, "stream", "demo", &val, &len, &err), 0);
    CU_ASSERT_STRING_EQUAL(val, "{\"sql\":\"y\"}");
    CU_ASSERT_EQUAL(len, 11);
    ek_free(val);
    CU_ASSERT_EQUAL(ek_store_get(s, "rule", "demo", &val, &len, &err), 0);
    CU_ASSERT_STRING_EQUAL(val, "r");
    ek_free(val);
    CU_ASSERT_EQUAL(ek_store_get(s, "stream", "missing", &val, &len, &err), EK_ENOTFOUND);
    CU_ASSERT_EQUAL(ek_store_delete(s, "stream", "demo", &err), 0);
    CU_ASSERT_EQUAL(ek_store_delete(s, "stream", "demo", &err), EK_ENOTFOUND);
    int n = 0;
    ek_store_set(s, "stream", "a", "1", 1, &err);
    ek_store_set(s, "stream", "b", "2", 1, &err);
    CU_ASSERT_EQUAL(ek_store_foreach(s, "stream", count_keys, &n, &err), 0);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(ek_store_clear(s, "stream", &err), 0);
    n = 0;
    ek_store_foreach(s, "stream", count_keys, &n, &err);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(ek_store_set(s, "bad ns; drop", "k", "v", 1, &err), EK_EINVAL);
    ek_store_close(s);
    ek_free(path);
}

static void test_second_opener_refused(void)
{
    char *path = db_path("locked.db");
    ek_store *a = NULL, *b = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL_FATAL(ek_store_open(path, &a, &err), 0);
    CU_ASSERT_EQUAL(ek_store_open(path, &b, &err), EK_EBUSY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "in use by another process"));
    ek_store_close(a);
    CU_ASSERT_EQUAL(ek_store_open(path, &b, &err), 0);
    ek_store_close(b);
    ek_free(path);
}

static void test_corrupt_file_reported(void)
{
    char *path = db_path("corrupt.db");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 200; i++) fputs("this is not a database file at all. ", f);
    fclose(f);
    ek_store *s = NULL;
    ek_err err = {0};
    CU_ASSERT_EQUAL(ek_store_open(path, &s, &err), EK_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a valid SQLite database"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "corrupt.db"));
    ek_free(path);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"values survive close and reopen", test_set_get_survives_reopen},
        {"a second opener is refused", test_second_opener_refused},
        {"a corrupt file is reported", test_corrupt_file_reported},
        {NULL, NULL},
    };
    ek_add_suite("store", cases);
}
