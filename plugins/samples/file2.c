/* Sample sink plugin "file2": appends each result the rule sends (the payload as encoded by the
 * action's format / dataTemplate) as one line to the file at property `path`, flushed at once so
 * that readers see it. {"actions": [{"file2": {"path": "/tmp/out.txt"}}]}. */
#include "engine/mem.h"
#include "plugins/plugin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct file2 {
    FILE *f;
} file2;

static int file2_open(void *st, const ek_sink_conf *conf, ek_err *err)
{
    file2 *s = st;
    const ek_value *path = ek_object_get_ci(conf->props, "path");
    if (!path || path->type != EK_T_STRING || ek_str_len(path) == 0)
        return ek_err_set(err, EK_ECONF, "file2: property path is required");
    s->f = fopen(ek_str_ptr(path), "a");
    if (!s->f) return ek_err_set(err, EK_EIO, "file2: cannot open %s: %s", ek_str_ptr(path), strerror(errno));
    return 0;
}

static int file2_collect(void *st, const ek_sink_data *data, ek_err *err)
{
    file2 *s = st;
    if (fwrite(data->payload, 1, data->len, s->f) != data->len || fputc('\n', s->f) == EOF || fflush(s->f))
        return ek_err_set(err, EK_EIO, "file2: write failed: %s", strerror(errno));
    return 0;
}

static void file2_close(void *st)
{
    file2 *s = st;
    if (s->f) fclose(s->f);
    s->f = NULL;
}

static const ek_sink_ops file2_ops = {
    .type = "file2",
    .state_size = sizeof(file2),
    .open = file2_open,
    .collect = file2_collect,
    .close = file2_close,
};

static const ek_sink_ops *const sinks[] = {&file2_ops};

static const ek_plugin plugin = {
    .abi_version = EK_PLUGIN_ABI_VERSION,
    .name = "file2",
    .version = "1.0.0",
    .sinks = sinks,
    .nsinks = 1,
};

EK_PLUGIN_EXPORT const ek_plugin *ek_plugin_entry(void) { return &plugin; }
