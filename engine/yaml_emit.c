/* ek_value to YAML with libyaml's emitter, the reverse of yaml.c: GET /v2/data/export writes
 * eKuiper's YAML configuration export with it. A string that would read back as another type
 * ("true", "12", "null", "") is double-quoted, so that ek_yaml_parse gives the same tree back. */
#include "engine/codec_json.h"
#include "engine/config.h"
#include "engine/config_int.h"
#include "engine/mem.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

static int on_write(void *data, unsigned char *buf, size_t size)
{
    ek_buf_append(data, buf, size);
    return 1;
}

static void scalar(yaml_emitter_t *em, const char *s, size_t len, bool quote)
{
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)len, !quote, 1,
                                 quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
    yaml_emitter_emit(em, &ev);
}

static void string(yaml_emitter_t *em, const char *s, size_t len)
{
    ek_value back = config__scalar(s, len, true);
    bool quote = back.type != EK_T_STRING;
    ek_value_unref(&back);
    scalar(em, s, len, quote);
}

static void node(yaml_emitter_t *em, const ek_value *v)
{
    yaml_event_t ev;
    char num[64];
    switch (v->type) {
    case EK_T_OBJECT:
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        yaml_emitter_emit(em, &ev);
        for (size_t i = 0; i < ek_object_len(v); i++) {
            const char *k = ek_object_key(v, i);
            string(em, k, strlen(k));
            node(em, ek_object_val(v, i));
        }
        yaml_mapping_end_event_initialize(&ev);
        yaml_emitter_emit(em, &ev);
        break;
    case EK_T_ARRAY:
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        yaml_emitter_emit(em, &ev);
        for (size_t i = 0; i < ek_array_len(v); i++) node(em, ek_array_get(v, i));
        yaml_sequence_end_event_initialize(&ev);
        yaml_emitter_emit(em, &ev);
        break;
    case EK_T_STRING: string(em, ek_str_ptr(v), ek_str_len(v)); break;
    case EK_T_NULL: scalar(em, "null", 4, false); break;
    case EK_T_BOOL: scalar(em, v->b ? "true" : "false", v->b ? 4 : 5, false); break;
    case EK_T_INT:
        snprintf(num, sizeof num, "%lld", (long long)v->i);
        scalar(em, num, strlen(num), false);
        break;
    case EK_T_FLOAT:
        snprintf(num, sizeof num, "%.17g", v->f);
        if (!strpbrk(num, ".eEn")) strcat(num, ".0");
        scalar(em, num, strlen(num), false);
        break;
    default: { /* bytes and datetimes as their JSON text */
        char *text = ek_json_encode_str(v, 0);
        size_t n = strlen(text);
        if (n >= 2 && text[0] == '"') string(em, text + 1, n - 2);
        else scalar(em, text, n, false);
        ek_free(text);
    }
    }
}

void ek_yaml_emit(const ek_value *v, ek_buf *out)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    yaml_emitter_initialize(&em);
    yaml_emitter_set_output(&em, on_write, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    yaml_emitter_emit(&em, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    yaml_emitter_emit(&em, &ev);
    node(&em, v);
    yaml_document_end_event_initialize(&ev, 1);
    yaml_emitter_emit(&em, &ev);
    yaml_stream_end_event_initialize(&ev);
    yaml_emitter_emit(&em, &ev);
    yaml_emitter_delete(&em);
}
