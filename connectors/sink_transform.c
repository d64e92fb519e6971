/* The sink-side transform (sink_transform.h): batching, sendSingle, omitIfEmpty, dataTemplate,
 * dataField, fields / excludeFields, format and compression, in eKuiper's order. Properties are read
 * from a table and validated once when the rule is created; applying them allocates only the
 * payload. JSON is written by the one codec (engine/codec_json.h) with sorted keys, as Go marshals
 * the maps eKuiper's sinks hold, so payloads are byte-for-byte what eKuiper sends. */
#include "connectors/sink_transform.h"
#include "connectors/template.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { FMT_JSON, FMT_DELIMITED };

struct ek_sink_transform {
    bool send_single, omit_if_empty, has_header;
    int format;
    ek_template *tpl;
    char *data_field;
    char **fields;
    int nfields;
    bool exclude;          /* fields lists excludeFields */
    char delimiter[8];
    char compression[16];
    int64_t batch_size, linger_ms;
    ek_value pending;      /* batched rows (an array) or null */
    ek_value pending_meta;
    int64_t first_ms;      /* when the first pending row came */
    bool values_only;      /* the sink never reads the payload: do not encode one */
};

void ek_sink_transform_values_only(ek_sink_transform *t) { t->values_only = true; }

bool ek_sink_transform_batches(const ek_sink_transform *t) { return t->batch_size > 0 || t->linger_ms > 0; }

static int read_fields(const ek_value *v, const char *key, ek_sink_transform *t, ek_err *err)
{
    if (v->type != EK_T_ARRAY) return ek_err_set(err, EK_EINVAL, "property %s: expected an array of field names", key);
    t->fields = ek_calloc(ek_array_len(v) + 1, sizeof *t->fields);
    for (size_t i = 0; i < ek_array_len(v); i++) {
        const ek_value *f = ek_array_get(v, i);
        if (f->type != EK_T_STRING) return ek_err_set(err, EK_EINVAL, "property %s: expected field names", key);
        t->fields[t->nfields++] = ek_strdup(ek_str_ptr(f));
    }
    return 0;
}

int ek_sink_transform_new(const ek_value *props, ek_sink_transform **out, ek_err *err)
{
    ek_sink_transform *t = ek_calloc(1, sizeof *t);
    int rc = 0;
    const char *s;
    rc = ek_prop_bool(props, "sendSingle", false, &t->send_single, err);
    if (!rc) rc = ek_prop_bool(props, "omitIfEmpty", false, &t->omit_if_empty, err);
    if (!rc) rc = ek_prop_bool(props, "hasHeader", false, &t->has_header, err);
    if (!rc) rc = ek_prop_int(props, "batchSize", 0, &t->batch_size, err);
    if (!rc) rc = ek_prop_duration_ms(props, "lingerInterval", 0, &t->linger_ms, err);
    if (rc) goto out;
    if (t->batch_size < 0) {
        rc = ek_err_set(err, EK_EINVAL, "property batchSize: must not be negative");
        goto out;
    }
    s = ek_prop_str(props, "format", "json");
    if (strcasecmp(s, "json") == 0) t->format = FMT_JSON;
    else if (strcasecmp(s, "delimited") == 0) t->format = FMT_DELIMITED;
    else {
        rc = ek_err_set(err, EK_EINVAL, "property format: \"%s\" is not supported by sinks (json, delimited)", s);
        goto out;
    }
    snprintf(t->delimiter, sizeof t->delimiter, "%s", ek_prop_str(props, "delimiter", ","));
    s = ek_prop_str(props, "compression", "");
    if ((rc = ek_compress_check(s, err))) goto out;
    snprintf(t->compression, sizeof t->compression, "%s", s);
    s = ek_prop_str(props, "dataTemplate", "");
    if (*s && (rc = ek_template_compile(s, &t->tpl, err))) {
        ek_err_prefix(err, "property dataTemplate");
        goto out;
    }
    s = ek_prop_str(props, "encryption", "");
    if (*s) {
        rc = ek_err_set(err, EK_EINVAL, "property encryption: \"%s\" is not supported by kuiperd", s);
        goto out;
    }
    s = ek_prop_str(props, "dataField", "");
    if (*s) t->data_field = ek_strdup(s);
    const ek_value *f = ek_prop(props, "fields"), *x = ek_prop(props, "excludeFields");
    if (f && x && ek_array_len(f) && ek_array_len(x)) {
        rc = ek_err_set(err, EK_EINVAL, "properties fields and excludeFields cannot be set together");
        goto out;
    }
    if (f && (rc = read_fields(f, "fields", t, err))) goto out;
    if (x && !f && (rc = read_fields(x, "excludeFields", t, err))) goto out;
    t->exclude = x && !f;
out:
    if (rc) {
        ek_sink_transform_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void ek_sink_transform_free(ek_sink_transform *t)
{
    if (!t) return;
    ek_template_free(t->tpl);
    ek_free(t->data_field);
    for (int i = 0; i < t->nfields; i++) ek_free(t->fields[i]);
    ek_free(t->fields);
    ek_value_unref(&t->pending);
    ek_value_unref(&t->pending_meta);
    ek_free(t);
}

/* ---- selecting: dataField, fields, excludeFields ---- */

static ek_value select_obj(const ek_sink_transform *t, const ek_value *o)
{
    if (o->type != EK_T_OBJECT || !t->nfields) return ek_value_ref(o);
    ek_value r = ek_object_new((size_t)t->nfields);
    if (t->exclude) {
        for (size_t i = 0; i < ek_object_len(o); i++) {
            int skip = 0;
            for (int j = 0; j < t->nfields && !skip; j++) skip = strcmp(ek_object_key(o, i), t->fields[j]) == 0;
            if (!skip) ek_object_set(&r, ek_object_key(o, i), ek_value_ref(ek_object_val(o, i)));
        }
    } else {
        for (int j = 0; j < t->nfields; j++) {
            const ek_value *v = ek_object_get(o, t->fields[j]);
            ek_object_set(&r, t->fields[j], v ? ek_value_ref(v) : ek_null());
        }
    }
    return r;
}

static ek_value select_value(const ek_sink_transform *t, const ek_value *v)
{
    ek_value cur = ek_value_ref(v);
    if (t->data_field) {
        const ek_value *from = cur.type == EK_T_ARRAY && ek_array_len(&cur) ? ek_array_get(&cur, 0) : &cur;
        const ek_value *d = from->type == EK_T_OBJECT ? ek_object_get(from, t->data_field) : NULL;
        ek_value next = d ? ek_value_ref(d) : ek_null();
        ek_value_unref(&cur);
        cur = next;
    }
    if (!t->nfields) return cur;
    ek_value r;
    if (cur.type == EK_T_ARRAY) {
        r = ek_array_new(ek_array_len(&cur));
        for (size_t i = 0; i < ek_array_len(&cur); i++) ek_array_push(&r, select_obj(t, ek_array_get(&cur, i)));
    } else {
        r = select_obj(t, &cur);
    }
    ek_value_unref(&cur);
    return r;
}

/* ---- formats ---- */

static void cell(const ek_value *v, ek_buf *out)
{
    if (v->type == EK_T_NULL) return;
    if (v->type == EK_T_ARRAY || v->type == EK_T_OBJECT) ek_json_encode(v, EK_JSON_SORT_KEYS, out);
    else ek_template_print_value(v, out);
}

static int key_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void encode_delimited(const ek_sink_transform *t, const ek_value *v, ek_buf *out)
{
    const ek_value *first = v->type == EK_T_ARRAY ? (ek_array_len(v) ? ek_array_get(v, 0) : NULL) : v;
    if (!first || first->type != EK_T_OBJECT) {
        if (first) cell(first, out);
        return;
    }
    /* Columns: fields' order when given, else the first row's keys sorted. */
    size_t ncols = t->nfields && !t->exclude ? (size_t)t->nfields : ek_object_len(first);
    const char **cols = ek_malloc((ncols ? ncols : 1) * sizeof *cols);
    for (size_t i = 0; i < ncols; i++)
        cols[i] = t->nfields && !t->exclude ? t->fields[i] : ek_object_key(first, i);
    if (!(t->nfields && !t->exclude)) qsort(cols, ncols, sizeof *cols, key_cmp);
    if (t->has_header) {
        for (size_t i = 0; i < ncols; i++) ek_buf_printf(out, "%s%s", i ? t->delimiter : "", cols[i]);
        ek_buf_putc(out, '\n');
    }
    size_t nrows = v->type == EK_T_ARRAY ? ek_array_len(v) : 1;
    for (size_t r = 0; r < nrows; r++) {
        const ek_value *row = v->type == EK_T_ARRAY ? ek_array_get(v, r) : v;
        if (r) ek_buf_putc(out, '\n');
        for (size_t i = 0; i < ncols; i++) {
            if (i) ek_buf_puts(out, t->delimiter);
            const ek_value *c = row->type == EK_T_OBJECT ? ek_object_get(row, cols[i]) : NULL;
            if (c) cell(c, out);
        }
    }
    ek_free(cols);
}

static void encode_format(const ek_sink_transform *t, const ek_value *v, ek_buf *out)
{
    if (t->format == FMT_DELIMITED) encode_delimited(t, v, out);
    else ek_json_encode(v, EK_JSON_SORT_KEYS, out);
}

/* value -> (*shaped, payload): the whole per-message pipeline but batching. */
static int encode(const ek_sink_transform *t, const ek_value *v, ek_value *shaped, ek_buf *out, ek_err *err)
{
    ek_buf raw = EK_BUF_INIT;
    int rc = 0;
    if (t->tpl) {
        if ((rc = ek_template_render(t->tpl, v, &raw, err))) goto out;
        ek_value parsed = ek_null();
        int ok = raw.len && ek_json_decode(raw.data, raw.len, 0, &parsed, NULL) == 0 &&
                 (parsed.type == EK_T_OBJECT || parsed.type == EK_T_ARRAY);
        if (!ok) ek_value_unref(&parsed);
        if (ok && (t->data_field || t->nfields)) {
            *shaped = select_value(t, &parsed);
            ek_value_unref(&parsed);
            ek_buf_reset(&raw);
            encode_format(t, shaped, &raw);
        } else {
            /* The message stays the row: templated properties (topic, url, path) read its fields,
             * as eKuiper computes dynamic properties before the template. */
            ek_value_unref(&parsed);
            *shaped = ek_value_ref(v);
        }
    } else {
        *shaped = select_value(t, v);
        if (t->values_only) return 0;
        encode_format(t, shaped, &raw);
    }
    rc = ek_compress(t->compression, raw.data ? raw.data : "", raw.len, out, err);
    if (rc) ek_value_unref(shaped);
out:
    ek_buf_free(&raw);
    return rc;
}

int ek_sink_transform_encode(const ek_sink_transform *t, const ek_value *value, ek_buf *out, ek_err *err)
{
    ek_value shaped = ek_null();
    int rc = encode(t, value, &shaped, out, err);
    ek_value_unref(&shaped);
    return rc;
}

static int emit_one(ek_sink_transform *t, const ek_value *v, const ek_value *meta, ek_sink_emit_fn emit, void *arg,
                    ek_err *err)
{
    ek_value shaped = ek_null();
    ek_buf payload = EK_BUF_INIT;
    int rc = encode(t, v, &shaped, &payload, err);
    if (rc) return rc;
    ek_sink_data d = {.value = &shaped, .payload = payload.data ? payload.data : "", .len = payload.len,
                      .meta = meta && meta->type != EK_T_NULL ? meta : NULL};
    rc = emit(arg, &d);
    ek_value_unref(&shaped);
    ek_buf_free(&payload);
    return rc;
}

/* One result (an array of rows) through sendSingle / omitIfEmpty to the encoder. */
static int emit_result(ek_sink_transform *t, const ek_value *rows, const ek_value *meta, ek_sink_emit_fn emit,
                       void *arg, ek_err *err)
{
    size_t n = ek_array_len(rows);
    if (!t->send_single) {
        if (n == 0 && t->omit_if_empty) return 0;
        return emit_one(t, rows, meta, emit, arg, err);
    }
    for (size_t i = 0; i < n; i++) {
        const ek_value *r = ek_array_get(rows, i);
        if (t->omit_if_empty && r->type == EK_T_OBJECT && ek_object_len(r) == 0) continue;
        int rc = emit_one(t, r, meta, emit, arg, err);
        if (rc) return rc;
    }
    return 0;
}

static int emit_pending(ek_sink_transform *t, size_t upto, ek_sink_emit_fn emit, void *arg, ek_err *err)
{
    ek_value batch = ek_array_new(upto);
    size_t n = ek_array_len(&t->pending);
    for (size_t i = 0; i < upto; i++) ek_array_push(&batch, ek_value_ref(ek_array_get(&t->pending, i)));
    ek_value rest = ek_array_new(n - upto);
    for (size_t i = upto; i < n; i++) ek_array_push(&rest, ek_value_ref(ek_array_get(&t->pending, i)));
    ek_value meta = t->pending_meta;
    t->pending_meta = ek_null();
    ek_value_unref(&t->pending);
    t->pending = rest;
    int rc = emit_result(t, &batch, &meta, emit, arg, err);
    ek_value_unref(&batch);
    ek_value_unref(&meta);
    return rc;
}

int ek_sink_transform_apply(ek_sink_transform *t, const ek_value *result, const ek_value *meta, int64_t now_ms,
                            ek_sink_emit_fn emit, void *arg, ek_err *err)
{
    ek_value rows;
    if (result->type == EK_T_ARRAY) {
        rows = ek_value_ref(result);
    } else {
        rows = ek_array_new(1);
        if (result->type != EK_T_NULL) ek_array_push(&rows, ek_value_ref(result));
    }
    int rc = 0;
    if (t->batch_size <= 0 && t->linger_ms <= 0) {
        rc = emit_result(t, &rows, meta, emit, arg, err);
        ek_value_unref(&rows);
        return rc;
    }
    if (t->pending.type != EK_T_ARRAY) t->pending = ek_array_new(16);
    ek_value_unshare(&t->pending);
    if (ek_array_len(&t->pending) == 0) {
        t->first_ms = now_ms;
        ek_value_unref(&t->pending_meta);
        t->pending_meta = meta ? ek_value_ref(meta) : ek_null();
    }
    for (size_t i = 0; i < ek_array_len(&rows); i++) ek_array_push(&t->pending, ek_value_ref(ek_array_get(&rows, i)));
    ek_value_unref(&rows);
    while (!rc && t->batch_size > 0 && ek_array_len(&t->pending) >= (size_t)t->batch_size) {
        rc = emit_pending(t, (size_t)t->batch_size, emit, arg, err);
        t->first_ms = now_ms;
    }
    return rc;
}

int ek_sink_transform_flush(ek_sink_transform *t, int64_t now_ms, bool force, ek_sink_emit_fn emit, void *arg,
                            ek_err *err)
{
    if (t->pending.type != EK_T_ARRAY || ek_array_len(&t->pending) == 0) return 0;
    if (!force && (t->linger_ms <= 0 || now_ms < t->first_ms + t->linger_ms)) return 0;
    return emit_pending(t, ek_array_len(&t->pending), emit, arg, err);
}

bool ek_sink_transform_pending(const ek_sink_transform *t)
{
    return t && t->pending.type == EK_T_ARRAY && ek_array_len(&t->pending) > 0;
}

int64_t ek_sink_transform_deadline(const ek_sink_transform *t)
{
    if (t->linger_ms <= 0 || t->pending.type != EK_T_ARRAY || ek_array_len(&t->pending) == 0) return -1;
    return t->first_ms + t->linger_ms;
}
