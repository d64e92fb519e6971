/* Unit tests for ek_buf_read_file (engine/buf.c), the one whole-file reader of the CLI's -f files,
 * the REST file:// bodies and the provisioning of data/: a file larger than one read chunk comes
 * back whole and appended, a missing file, a directory and a file over the bound fail with errno
 * saying why. */
#include "engine/buf.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_read_file(void)
{
    char dir[] = "/tmp/ek-buf-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/f.txt", dir);
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 3000; i++) fprintf(f, "%04d\n", i);  /* 15000 bytes: two reads */
    fclose(f);

    ek_buf b = EK_BUF_INIT;
    ek_buf_puts(&b, ">");
    CU_ASSERT_EQUAL(ek_buf_read_file(&b, path, 0), 0);
    CU_ASSERT_EQUAL(b.len, 1 + 15000u);
    CU_ASSERT_EQUAL(strncmp(b.data, ">0000\n0001\n", 11), 0);
    CU_ASSERT_STRING_EQUAL(b.data + b.len - 5, "2999\n");

    ek_buf_reset(&b);
    errno = 0;
    CU_ASSERT_EQUAL(ek_buf_read_file(&b, path, 10000), -1);
    CU_ASSERT_EQUAL(errno, EFBIG);
    ek_buf_reset(&b);
    CU_ASSERT_EQUAL(ek_buf_read_file(&b, path, 15000), 0);  /* the bound is inclusive */

    char missing[80];
    snprintf(missing, sizeof missing, "%s/none", dir);
    CU_ASSERT_EQUAL(ek_buf_read_file(&b, missing, 0), -1);
    CU_ASSERT_EQUAL(errno, ENOENT);
    CU_ASSERT_EQUAL(ek_buf_read_file(&b, dir, 0), -1);
    CU_ASSERT_EQUAL(errno, EISDIR);
    ek_buf_free(&b);

    unlink(path);
    rmdir(dir);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"read a whole file", test_read_file},
        {NULL, NULL},
    };
    ek_add_suite("buf", cases);
}
