/* Unit tests for logging: lines in eKuiper's logrus form in <log>/stream.log, the level filter,
 * and rotation by size keeping at most rotateCount old files. */
#include "engine/log.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return ek_strdup("");
    char *buf = ek_malloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int count_rotated(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "stream.log.", 11) == 0) n++;
    if (d) closedir(d);
    return n;
}

static void test_lines_and_levels(void)
{
    char dir[] = "/tmp/ek-log-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    ek_log_conf c = {.level = EK_LOG_INFO, .file = true, .dir = dir};
    CU_ASSERT_EQUAL_FATAL(ek_log_init(&c, NULL), 0);
    ek_info("Rule %s was started", "rule1");
    ek_debug("hidden at info level");
    ek_log_rule(EK_LOG_WARN, "rule2", "a \"quoted\" word");
    ek_log_close();
    char *path = ek_asprintf("%s/stream.log", dir);
    char *text = read_all(path);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "level=info msg=\"Rule rule1 was started\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "time=\""));
    CU_ASSERT_PTR_NULL(strstr(text, "hidden"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "level=warning msg=\"a \\\"quoted\\\" word\" rule=rule2"));
    ek_free(text);
    ek_free(path);
}

static void test_rotation_by_size(void)
{
    char dir[] = "/tmp/ek-log-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(ek_test_mkdtemp(dir));
    ek_log_conf c = {.level = EK_LOG_INFO, .file = true, .dir = dir, .rotate_size = 200, .rotate_count = 2,
                     .disable_timestamp = true};
    CU_ASSERT_EQUAL_FATAL(ek_log_init(&c, NULL), 0);
    for (int i = 0; i < 5; i++) {
        ek_info("line %d of a message long enough to pass the rotation size quickly %d", i, i);
        ek_info("another line %d with padding padding padding padding padding padding", i);
        ek_info("third line %d: rotation happens once the file reaches 200 bytes", i);
        /* Rotated names carry the second; wait so that each rotation gets its own name. */
        struct timespec ts = {1, 50000000};
        nanosleep(&ts, NULL);
    }
    ek_log_close();
    int n = count_rotated(dir);
    CU_ASSERT_TRUE(n >= 1);
    CU_ASSERT_TRUE(n <= 2);
}

static void test_level_names(void)
{
    ek_log_level l;
    CU_ASSERT_TRUE(ek_log_parse_level("DEBUG", &l) && l == EK_LOG_DEBUG);
    CU_ASSERT_TRUE(ek_log_parse_level("warn", &l) && l == EK_LOG_WARN);
    CU_ASSERT_TRUE(ek_log_parse_level("error", &l) && l == EK_LOG_ERROR);
    CU_ASSERT_FALSE(ek_log_parse_level("loud", &l));
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"lines in logrus form, level filter", test_lines_and_levels},
        {"rotation by size keeps rotateCount files", test_rotation_by_size},
        {"level names", test_level_names},
        {NULL, NULL},
    };
    ek_add_suite("log", cases);
}
