/* The process-wide logger (see log.h). One mutex serialises writes and rotation; a line is
 * formatted before the lock is taken so that slow formatting never blocks other threads' lines. */
#include "engine/log.h"
#include "engine/mem.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static ek_log_conf conf = {.level = EK_LOG_INFO}; /* silent until ek_log_init; guarded by mu */
/* What a line needs before taking the lock, readable from any thread while PATCH /configs calls
 * ek_log_init on the REST thread. */
static _Atomic int level_now = EK_LOG_INFO;
static _Atomic bool stamp_off;
static char *dir;
static FILE *file;
static time_t opened;
static long written;

static const char *level_names[] = {"debug", "info", "warning", "error"};

bool ek_log_parse_level(const char *s, ek_log_level *out)
{
    static const struct { const char *name; ek_log_level level; } names[] = {
        {"trace", EK_LOG_DEBUG}, {"debug", EK_LOG_DEBUG}, {"info", EK_LOG_INFO}, {"warn", EK_LOG_WARN},
        {"warning", EK_LOG_WARN}, {"error", EK_LOG_ERROR}, {"fatal", EK_LOG_ERROR}, {"panic", EK_LOG_ERROR},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return true;
        }
    }
    return false;
}

static int open_file(ek_err *err)
{
    char *path = ek_asprintf("%s/stream.log", dir);
    file = fopen(path, "a");
    if (!file) {
        ek_err_set(err, EK_EIO, "cannot open log file %s: %s", path, strerror(errno));
        ek_free(path);
        return EK_EIO;
    }
    setvbuf(file, NULL, _IOLBF, 0);
    struct stat st;
    written = fstat(fileno(file), &st) == 0 ? (long)st.st_size : 0;
    opened = time(NULL);
    ek_free(path);
    return 0;
}

/* Deletes rotated files beyond rotateCount or older than maxAge. Called with mu held. */
static void prune(void)
{
    DIR *d = opendir(dir);
    if (!d) return;
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (strncmp(e->d_name, "stream.log.", 11) == 0) names[n++] = ek_strdup(e->d_name);
    closedir(d);
    /* Names embed the date, so byte order is age order: newest last. */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) { char *t = names[i]; names[i] = names[j]; names[j] = t; }
    time_t now = time(NULL);
    for (int i = 0; i < n; i++) {
        char *path = ek_asprintf("%s/%s", dir, names[i]);
        struct stat st;
        bool too_many = conf.rotate_count > 0 && n - i > conf.rotate_count;
        bool too_old = conf.max_age_hours > 0 && stat(path, &st) == 0 && now - st.st_mtime > conf.max_age_hours * 3600;
        if (too_many || too_old) unlink(path);
        ek_free(path);
        ek_free(names[i]);
    }
}

static void rotate_if_due(void)
{
    time_t now = time(NULL);
    bool by_time = conf.rotate_hours > 0 && now - opened >= conf.rotate_hours * 3600;
    bool by_size = conf.rotate_size > 0 && written >= conf.rotate_size;
    if (!by_time && !by_size) return;
    fclose(file);
    file = NULL;
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &tm);
    char *from = ek_asprintf("%s/stream.log", dir);
    char *to = ek_asprintf("%s/stream.log.%s", dir, stamp);
    rename(from, to);
    ek_free(from);
    ek_free(to);
    prune();
    open_file(NULL);
}

int ek_log_init(const ek_log_conf *c, ek_err *err)
{
    pthread_mutex_lock(&mu);
    if (file) fclose(file);
    file = NULL;
    ek_free(dir);
    dir = NULL;
    conf = *c;
    int rc = 0;
    if (c->file) {
        dir = ek_strdup(c->dir ? c->dir : "log");
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            rc = ek_err_set(err, EK_EIO, "cannot create log directory %s: %s", dir, strerror(errno));
        else
            rc = open_file(err);
        if (!rc) prune();
    }
    conf.dir = dir;
    atomic_store(&level_now, (int)c->level);
    atomic_store(&stamp_off, c->disable_timestamp);
    pthread_mutex_unlock(&mu);
    return rc;
}

void ek_log_close(void)
{
    pthread_mutex_lock(&mu);
    if (file) fclose(file);
    file = NULL;
    ek_free(dir);
    dir = NULL;
    conf.file = false;
    pthread_mutex_unlock(&mu);
}

__attribute__((format(printf, 3, 0)))
static void emit(ek_log_level level, const char *rule_id, const char *fmt, va_list ap)
{
    if ((int)level < atomic_load(&level_now)) return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* Quote as logrus does: escape backslashes and double quotes, keep it on one line. */
    char quoted[4200];
    size_t q = 0;
    for (const char *p = msg; *p && q < sizeof quoted - 3; p++) {
        if (*p == '"' || *p == '\\') quoted[q++] = '\\';
        quoted[q++] = *p == '\n' ? ' ' : *p;
    }
    quoted[q] = '\0';
    char line[4400];
    int n = 0;
    if (!atomic_load(&stamp_off)) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        char ts[32];
        strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
        n = snprintf(line, sizeof line, "time=\"%s\" ", ts);
    }
    n += snprintf(line + n, sizeof line - (size_t)n, "level=%s msg=\"%s\"", level_names[level], quoted);
    if (rule_id && n < (int)sizeof line) n += snprintf(line + n, sizeof line - (size_t)n, " rule=%s", rule_id);
    if (n >= (int)sizeof line) n = (int)sizeof line - 1;
    pthread_mutex_lock(&mu);
    if (conf.console) fprintf(stdout, "%s\n", line), fflush(stdout);
    if (file) {
        fprintf(file, "%s\n", line);
        written += n + 1;
        rotate_if_due();
    }
    pthread_mutex_unlock(&mu);
}

void ek_log(ek_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, NULL, fmt, ap);
    va_end(ap);
}

void ek_log_rule(ek_log_level level, const char *rule_id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, rule_id, fmt, ap);
    va_end(ap);
}
