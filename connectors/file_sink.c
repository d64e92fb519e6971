/* The "file" sink: appends each payload to `path` (a template over the message, so one sink may
 * write several files), as fileType lines (one payload a line, the default), json (the file is a
 * JSON array of the payloads) or csv (delimited payloads, with a header line first when
 * hasHeader). Rolling as eKuiper's: a new file every rollingInterval ms and/or rollingCount
 * messages, named with a millisecond timestamp by rollingNamePattern (prefix: `<ts>-name.ext`,
 * suffix: `name-<ts>.ext`, none: the path itself). compression (gzip, zstd) makes every line its
 * own compressed member, which gzip and zstd tools read as one stream; such files end in .gz or
 * .zst. Files are closed (and json arrays terminated) when they roll and at close. */
#include "connectors/builtin.h"
#include "connectors/sink_transform.h"
#include "connectors/template.h"
#include "engine/app.h"
#include "engine/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_OPEN 64

enum { FT_LINES, FT_JSON, FT_CSV };

typedef struct open_file {
    char *key;         /* the rendered path */
    char *name;        /* the file actually written */
    FILE *f;
    int64_t count, opened_ms;
} open_file;

typedef struct file_sink {
    char *path;
    ek_template *path_tpl;
    int type;
    bool header;
    char delimiter[8];
    int64_t roll_interval, roll_count;
    char pattern[8];
    char compression[8];
    open_file files[MAX_OPEN];
    int nfiles;
} file_sink;

static int file_open(void *st, const ek_sink_conf *conf, ek_err *err)
{
    file_sink *s = st;
    const char *path = ek_prop_str(conf->props, "path", NULL);
    if (!path || !*path) return ek_err_set(err, EK_EINVAL, "file sink: property path is required");
    static const char *const types[] = {"lines", "json", "csv"};
    const char *ft = ek_prop_str(conf->props, "fileType", "lines");
    s->type = -1;
    for (int i = 0; i < 3; i++)
        if (strcasecmp(ft, types[i]) == 0) s->type = i;
    if (s->type < 0) return ek_err_set(err, EK_EINVAL, "file sink: property fileType: \"%s\" is not lines, json or csv", ft);
    const char *pat = ek_prop_str(conf->props, "rollingNamePattern", "");
    if (*pat && strcasecmp(pat, "prefix") && strcasecmp(pat, "suffix") && strcasecmp(pat, "none"))
        return ek_err_set(err, EK_EINVAL, "file sink: property rollingNamePattern: \"%s\" is not prefix, suffix or none", pat);
    snprintf(s->pattern, sizeof s->pattern, "%s", pat);
    const char *comp = ek_prop_str(conf->props, "compression", "");
    if (*comp && strcasecmp(comp, "gzip") && strcasecmp(comp, "zstd"))
        return ek_err_set(err, EK_EINVAL, "file sink: property compression: \"%s\" is not gzip or zstd", comp);
    snprintf(s->compression, sizeof s->compression, "%s", comp);
    snprintf(s->delimiter, sizeof s->delimiter, "%s", ek_prop_str(conf->props, "delimiter", ","));
    int rc = ek_prop_bool(conf->props, "hasHeader", false, &s->header, err);
    if (!rc) rc = ek_prop_duration_ms(conf->props, "rollingInterval", 0, &s->roll_interval, err);
    if (!rc) rc = ek_prop_int(conf->props, "rollingCount", 0, &s->roll_count, err);
    if (rc) return ek_err_prefix(err, "file sink");
    if (!ek_template_is_static(path) && (rc = ek_template_compile(path, &s->path_tpl, err)))
        return ek_err_prefix(err, "file sink: property path");
    s->path = ek_strdup(path);
    return 0;
}

/* name.ext -> the rolled name for now_ms, plus .gz/.zst when compressed. */
static char *file_name(const file_sink *s, const char *path, int64_t now_ms)
{
    bool rolling = s->roll_interval > 0 || s->roll_count > 0;
    const char *pat = s->pattern[0] ? s->pattern : rolling ? "suffix" : "none";
    const char *ext = !strcasecmp(s->compression, "gzip") ? ".gz" : !strcasecmp(s->compression, "zstd") ? ".zst" : "";
    if (strcasecmp(pat, "none") == 0) return ek_asprintf("%s%s", path, ext);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    int dirlen = (int)(base - path), stemlen = dot ? (int)(dot - base) : (int)strlen(base);
    if (strcasecmp(pat, "prefix") == 0)
        return ek_asprintf("%.*s%lld-%s%s", dirlen, path, (long long)now_ms, base, ext);
    return ek_asprintf("%.*s%.*s-%lld%s%s", dirlen, path, stemlen, base, (long long)now_ms, dot ? dot : "", ext);
}

static int write_raw(const file_sink *s, FILE *f, const char *p, size_t n, ek_err *err)
{
    if (!s->compression[0]) return fwrite(p, 1, n, f) == n ? 0 : ek_err_set(err, EK_EIO, "write: %s", strerror(errno));
    ek_buf z = EK_BUF_INIT;
    int rc = ek_compress(s->compression, p, n, &z, err);
    if (!rc && fwrite(z.data, 1, z.len, f) != z.len) rc = ek_err_set(err, EK_EIO, "write: %s", strerror(errno));
    ek_buf_free(&z);
    return rc;
}

static void close_file(file_sink *s, open_file *of)
{
    if (of->f) {
        if (s->type == FT_JSON) write_raw(s, of->f, of->count ? "]" : "[]", of->count ? 1 : 2, NULL);
        fclose(of->f);
    }
    ek_free(of->key);
    ek_free(of->name);
    memset(of, 0, sizeof *of);
}

static void mkdirs(const char *name)
{
    char *dir = ek_strdup(name);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(dir, 0755);
        *p = '/';
    }
    ek_free(dir);
}

static open_file *get_file(file_sink *s, const char *key, int64_t now_ms, ek_err *err)
{
    open_file *of = NULL;
    for (int i = 0; i < s->nfiles && !of; i++)
        if (strcmp(s->files[i].key, key) == 0) of = &s->files[i];
    if (of && ((s->roll_count > 0 && of->count >= s->roll_count) ||
               (s->roll_interval > 0 && now_ms - of->opened_ms >= s->roll_interval))) {
        char *k = ek_strdup(key);
        close_file(s, of);
        of->key = k;
    } else if (!of) {
        if (s->nfiles == MAX_OPEN) close_file(s, &s->files[--s->nfiles]);
        of = &s->files[s->nfiles++];
        of->key = ek_strdup(key);
    }
    if (of->f) return of;
    of->name = file_name(s, key, now_ms);
    mkdirs(of->name);
    of->f = fopen(of->name, "ab");
    if (!of->f) {
        ek_err_set(err, EK_EIO, "file sink: cannot open %s: %s", of->name, strerror(errno));
        ek_free(of->name);
        of->name = NULL;
        return NULL;
    }
    of->opened_ms = now_ms, of->count = 0;
    return of;
}

/* The csv header of a message: its keys sorted, as the delimited encoder orders columns. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void csv_header(const file_sink *s, const ek_value *v, ek_buf *out)
{
    if (v && v->type == EK_T_ARRAY) v = ek_array_len(v) ? ek_array_get(v, 0) : NULL;
    if (!v || v->type != EK_T_OBJECT) return;
    size_t n = ek_object_len(v);
    const char **keys = ek_malloc((n ? n : 1) * sizeof *keys);
    for (size_t i = 0; i < n; i++) keys[i] = ek_object_key(v, i);
    qsort(keys, n, sizeof *keys, cmp_str);
    for (size_t i = 0; i < n; i++) ek_buf_printf(out, "%s%s", i ? s->delimiter : "", keys[i]);
    ek_free(keys);
}

static int file_collect(void *st, const ek_sink_data *d, ek_err *err)
{
    file_sink *s = st;
    ek_buf key = EK_BUF_INIT, line = EK_BUF_INIT, head = EK_BUF_INIT;
    int rc = 0;
    if (s->path_tpl) {
        const ek_value *row = d->value && d->value->type == EK_T_ARRAY && ek_array_len(d->value) ? ek_array_get(d->value, 0)
                                                                                               : d->value;
        rc = ek_template_render(s->path_tpl, row, &key, err);
    } else {
        ek_buf_puts(&key, s->path);
    }
    open_file *of = rc ? NULL : get_file(s, key.data, ek_now_ms(), err);
    if (!of) rc = rc ? rc : EK_EIO;
    const char *p = d->payload;
    size_t n = d->len;
    ek_buf plain = EK_BUF_INIT;
    /* The transform compresses payloads with the same `compression`; the file compresses whole
     * lines instead, so undo the per-payload one when it is there. */
    if (!rc && s->compression[0] && ek_decompress(s->compression, p, n, &plain, NULL) == 0)
        p = plain.data ? plain.data : "", n = plain.len;
    if (!rc && s->type == FT_CSV && s->header) {
        csv_header(s, d->value, &head);
        /* The transform may have put the same header on the payload: keep it once per file. */
        if (head.len && n > head.len && strncmp(p, head.data, head.len) == 0 && p[head.len] == '\n')
            p += head.len + 1, n -= head.len + 1;
        if (of->count == 0 && head.len && ftell(of->f) == 0) ek_buf_printf(&line, "%s\n", head.data);
    }
    if (!rc) {
        if (s->type == FT_JSON) ek_buf_puts(&line, of->count ? "," : "[");
        ek_buf_append(&line, p, n);
        if (s->type != FT_JSON) ek_buf_putc(&line, '\n');
        rc = write_raw(s, of->f, line.data, line.len, err);
        if (!rc && fflush(of->f) != 0) rc = ek_err_set(err, EK_EIO, "file sink: %s: %s", of->name, strerror(errno));
        if (!rc) of->count++;
    }
    ek_buf_free(&key);
    ek_buf_free(&line);
    ek_buf_free(&head);
    ek_buf_free(&plain);
    return rc;
}

static void file_close(void *st)
{
    file_sink *s = st;
    for (int i = 0; i < s->nfiles; i++) close_file(s, &s->files[i]);
    ek_template_free(s->path_tpl);
    ek_free(s->path);
    memset(s, 0, sizeof *s);
}

const ek_sink_ops ek_file_sink_ops = {
    .type = "file",
    .state_size = sizeof(file_sink),
    .open = file_open,
    .collect = file_collect,
    .close = file_close,
};
