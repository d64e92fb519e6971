/* The log sink: writes each result to the log (log/stream.log and, with consoleLog, stdout) as
 * eKuiper does, one info line per result tagged with the rule:
 *   time="..." level=info msg="sink result for rule rule1: [{\"a\":1}]" rule=rule1
 * It never fails, so it is the simplest way to watch a rule. */
#include "connectors/memory.h"
#include "engine/log.h"
#include "engine/mem.h"

typedef struct lsink {
    char *rule_id;
} lsink;

static int log_open(void *st, const ek_sink_conf *conf, ek_err *err)
{
    lsink *s = st;
    s->rule_id = ek_strdup(conf->rule_id ? conf->rule_id : "");
    return 0;
}

static int log_collect(void *st, const ek_sink_data *data, ek_err *err)
{
    lsink *s = st;
    ek_log_rule(EK_LOG_INFO, s->rule_id, "sink result for rule %s: %.*s", s->rule_id, (int)data->len,
                data->payload ? data->payload : "");
    return 0;
}

static void log_close(void *st)
{
    lsink *s = st;
    ek_free(s->rule_id);
}

const ek_sink_ops ek_log_sink_ops = {
    .type = "log",
    .state_size = sizeof(lsink),
    .open = log_open,
    .collect = log_collect,
    .close = log_close,
};
