/* Logging as eKuiper does it: basic.consoleLog to stdout, basic.fileLog to <log>/stream.log, level
 * from basic.logLevel (basic.debug forces debug), lines in logrus' text form
 *   time="2026-11-26 04:00:00" level=info msg="Rule rule1 was started" rule=rule1
 * and rotation: every basic.rotateTime hours or basic.rotateSize bytes the file is renamed to
 * stream.log.<date>, keeping at most basic.rotateCount old files younger than basic.maxAge hours.
 * The logger is process-wide (set once at start, then only written), safe from any thread. */
#ifndef EK_LOG_H
#define EK_LOG_H

#include "engine/err.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum ek_log_level { EK_LOG_DEBUG, EK_LOG_INFO, EK_LOG_WARN, EK_LOG_ERROR } ek_log_level;

typedef struct ek_log_conf {
    ek_log_level level;
    bool console;
    bool file;
    const char *dir;          /* where stream.log goes */
    bool disable_timestamp;
    int64_t rotate_hours;     /* 0: no time rotation */
    int64_t rotate_size;      /* bytes, 0: no size rotation */
    int64_t rotate_count;     /* old files kept */
    int64_t max_age_hours;    /* 0: keep */
} ek_log_conf;

/* Parses "debug", "info", "warn"/"warning", "error"/"fatal"/"panic"; false if unknown. */
bool ek_log_parse_level(const char *s, ek_log_level *out);
/* (Re)configures the logger; creates dir if needed. Errors name the directory. */
int ek_log_init(const ek_log_conf *conf, ek_err *err);
void ek_log_close(void);
void ek_log(ek_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a rule=<id> field, as eKuiper tags a rule's lines. */
void ek_log_rule(ek_log_level level, const char *rule_id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define ek_debug(...) ek_log(EK_LOG_DEBUG, __VA_ARGS__)
#define ek_info(...) ek_log(EK_LOG_INFO, __VA_ARGS__)
#define ek_warn(...) ek_log(EK_LOG_WARN, __VA_ARGS__)
#define ek_error(...) ek_log(EK_LOG_ERROR, __VA_ARGS__)

#endif
