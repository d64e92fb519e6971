/* The "file" source, mostly for scan tables: reads <path>/<DATASOURCE> (path defaults to the data
 * directory) as fileType json (an array of objects, or one object), lines (one JSON document a
 * line) or csv (hasHeader, or `columns`, else col0, col1 ...; numbers become numbers), optionally
 * decompressed (gzip, zstd), skipping ignoreStartLines / ignoreEndLines, and pushes one message
 * per record, sendInterval ms apart. With interval > 0 the file is read again every interval;
 * after reading, actionAfterRead 1 deletes it and 2 moves it to moveTo. A missing or malformed
 * file is reported through ek_ingest.status and tried again at the next interval. */
#include "connectors/builtin.h"
#include "connectors/poller.h"
#include "connectors/sink_transform.h"
#include "engine/app.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FILE (256u << 20)

enum { FT_JSON, FT_LINES, FT_CSV };

typedef struct file_source {
    ek_ingest in;
    char *file, *move_to, *delimiter;
    int type;
    bool header;
    ek_value columns;   /* array of names or null */
    int64_t interval, send_interval, skip_start, skip_end, action;
    char decompression[8];
    ek_poller poll;
} file_source;

/* Sleeps ms unless stopped; returns whether stopped. */
static bool nap(file_source *s, int64_t ms) { return ek_poller_nap(&s->poll, ms); }

static bool emit(file_source *s, const ek_value *v, bool first)
{
    if (!first && nap(s, s->send_interval)) return false;
    char *text = ek_json_encode_str(v, 0);
    ek_value meta = ek_object_new(1);
    ek_object_set(&meta, "file", ek_string(s->file));
    s->in.payload(s->in.ctx, text, strlen(text), meta);
    ek_free(text);
    return true;
}

static ek_value csv_cell(const char *p, size_t n)
{
    char *t = ek_strndup(p, n), *end;
    long long i = strtoll(t, &end, 10);
    ek_value v;
    if (n && !*end) v = ek_int(i);
    else {
        double d = strtod(t, &end);
        v = n && !*end ? ek_float(d) : ek_string(t);
    }
    ek_free(t);
    return v;
}

/* Splits text into lines (without \r\n) and drops ignoreStartLines / ignoreEndLines. */
static int split_lines(file_source *s, char *text, char ***out)
{
    int n = 0, cap = 64;
    char **lines = ek_malloc((size_t)cap * sizeof *lines);
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r') p[len - 1] = '\0';
        if (n == cap) lines = ek_realloc(lines, (size_t)(cap *= 2) * sizeof *lines);
        lines[n++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    int from = (int)(s->skip_start < n ? s->skip_start : n), to = n - (int)(s->skip_end < n ? s->skip_end : n);
    int k = 0;
    for (int i = from; i < to; i++)
        if (lines[i][0]) lines[k++] = lines[i];
    *out = lines;
    return k;
}

static int read_csv(file_source *s, char **lines, int n)
{
    ek_value cols = s->columns.type == EK_T_ARRAY ? ek_value_ref(&s->columns) : ek_null();
    int start = 0;
    size_t dl = strlen(s->delimiter);
    if (s->header && n > 0) {
        ek_value_unref(&cols);
        cols = ek_array_new(8);
        for (char *p = lines[0];;) {
            char *d = strstr(p, s->delimiter);
            ek_array_push(&cols, ek_string_n(p, d ? (size_t)(d - p) : strlen(p)));
            if (!d) break;
            p = d + dl;
        }
        start = 1;
    }
    for (int i = start; i < n; i++) {
        ek_value row = ek_object_new(8);
        size_t c = 0;
        for (char *p = lines[i];; c++) {
            char *d = strstr(p, s->delimiter);
            size_t len = d ? (size_t)(d - p) : strlen(p);
            char name[32];
            const char *key = name;
            if (cols.type == EK_T_ARRAY && c < ek_array_len(&cols)) key = ek_str_ptr(ek_array_get(&cols, c));
            else snprintf(name, sizeof name, "col%zu", c);
            ek_object_set(&row, key, csv_cell(p, len));
            if (!d) break;
            p = d + dl;
        }
        bool ok = emit(s, &row, i == start);
        ek_value_unref(&row);
        if (!ok) break;
    }
    ek_value_unref(&cols);
    return 0;
}

static int read_once(file_source *s, ek_err *err)
{
    FILE *f = fopen(s->file, "rb");
    if (!f) return ek_err_set(err, EK_EIO, "cannot read %s: %s", s->file, strerror(errno));
    ek_buf raw = EK_BUF_INIT, text = EK_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && raw.len < MAX_FILE) ek_buf_append(&raw, chunk, n);
    fclose(f);
    int rc = ek_decompress(s->decompression, raw.data ? raw.data : "", raw.len, &text, err);
    ek_buf_free(&raw);
    if (rc) return rc;
    if (s->type == FT_JSON) {
        ek_value v;
        rc = ek_json_decode(text.data ? text.data : "", text.len, 0, &v, err);
        if (!rc) {
            size_t count = v.type == EK_T_ARRAY ? ek_array_len(&v) : 1;
            for (size_t i = 0; i < count; i++)
                if (!emit(s, v.type == EK_T_ARRAY ? ek_array_get(&v, i) : &v, i == 0)) break;
            ek_value_unref(&v);
        }
    } else if (text.data) {
        char **lines;
        int nl = split_lines(s, text.data, &lines);
        if (s->type == FT_CSV) {
            read_csv(s, lines, nl);
        } else {
            for (int i = 0; i < nl; i++) {
                if (i && nap(s, s->send_interval)) break;
                ek_value meta = ek_object_new(1);
                ek_object_set(&meta, "file", ek_string(s->file));
                s->in.payload(s->in.ctx, lines[i], strlen(lines[i]), meta);
            }
        }
        ek_free(lines);
    }
    ek_buf_free(&text);
    if (!rc && s->action == 1) remove(s->file);
    if (!rc && s->action == 2 && s->move_to) {
        const char *base = strrchr(s->file, '/');
        char *dst = ek_asprintf("%s/%s", s->move_to, base ? base + 1 : s->file);
        rename(s->file, dst);
        ek_free(dst);
    }
    return rc;
}

static void *run(void *arg)
{
    file_source *s = arg;
    int up = -1;
    do {
        ek_err err = {0};
        int rc = read_once(s, &err);
        if ((rc == 0) != (up == 1) && s->in.status) s->in.status(s->in.ctx, rc == 0, rc ? err.msg : NULL);
        up = rc == 0;
    } while (s->interval > 0 && !nap(s, s->interval));
    return NULL;
}

static int fs_open(void *st, const ek_source_conf *conf, const ek_ingest *ingest, ek_err *err)
{
    file_source *s = st;
    if (!conf->datasource || !*conf->datasource)
        return ek_err_set(err, EK_EINVAL, "stream %s: DATASOURCE (the file name) is required", conf->stream);
    static const char *const types[] = {"json", "lines", "csv"};
    const char *ft = ek_prop_str(conf->props, "fileType", "json");
    s->type = -1;
    for (int i = 0; i < 3; i++)
        if (strcasecmp(ft, types[i]) == 0) s->type = i;
    if (s->type < 0) return ek_err_set(err, EK_EINVAL, "stream %s: property fileType: \"%s\" is not json, lines or csv",
                                       conf->stream, ft);
    int rc = ek_prop_duration_ms(conf->props, "interval", 0, &s->interval, err);
    if (!rc) rc = ek_prop_duration_ms(conf->props, "sendInterval", 0, &s->send_interval, err);
    if (!rc) rc = ek_prop_int(conf->props, "ignoreStartLines", 0, &s->skip_start, err);
    if (!rc) rc = ek_prop_int(conf->props, "ignoreEndLines", 0, &s->skip_end, err);
    if (!rc) rc = ek_prop_int(conf->props, "actionAfterRead", 0, &s->action, err);
    if (!rc) rc = ek_prop_bool(conf->props, "hasHeader", false, &s->header, err);
    const char *dc = ek_prop_str(conf->props, "decompression", "");
    if (!rc) rc = ek_compress_check(dc, err);
    if (rc) return ek_err_prefix(err, "stream %s", conf->stream);
    snprintf(s->decompression, sizeof s->decompression, "%s", dc);
    const ek_value *cols = ek_prop(conf->props, "columns");
    s->columns = cols && cols->type == EK_T_ARRAY ? ek_value_ref(cols) : ek_null();
    const char *dir = ek_prop_str(conf->props, "path", conf->app && conf->app->data_dir ? conf->app->data_dir : "data");
    s->file = conf->datasource[0] == '/' ? ek_strdup(conf->datasource) : ek_asprintf("%s/%s", dir, conf->datasource);
    const char *mv = ek_prop_str(conf->props, "moveTo", NULL);
    s->move_to = mv ? ek_strdup(mv) : NULL;
    s->delimiter = ek_strdup(ek_prop_str(conf->props, "delimiter", ","));
    s->in = *ingest;
    if (ek_poller_start(&s->poll, run, s) != 0) return ek_err_set(err, EK_EIO, "file source: no thread");
    return 0;
}

static void fs_close(void *st)
{
    file_source *s = st;
    ek_poller_stop(&s->poll);
    ek_free(s->file);
    ek_free(s->move_to);
    ek_free(s->delimiter);
    ek_value_unref(&s->columns);
    memset(s, 0, sizeof *s);
}

const ek_source_ops ek_file_source_ops = {
    .type = "file",
    .state_size = sizeof(file_source),
    .open = fs_open,
    .close = fs_close,
    .lookup = NULL,
};
