/* libFuzzer target for the sink dataTemplate engine (connectors/template.h): the input is a
 * template text, optionally followed by a NUL byte and JSON data to render it over (a fixed row
 * of every value type otherwise). Compiling must either succeed or refuse with a message; a
 * compiled template must render or fail with EK_EEXEC and a message, never crash, loop or leak.
 * The fixed row mirrors what a rule emits: numbers, strings, nulls, arrays and nested objects. */
#include "connectors/template.h"
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char default_row[] =
    "{\"a\":1,\"b\":2.5,\"s\":\"x<y>&\\\"q\\\"\",\"n\":null,\"t\":true,\"arr\":[1,\"two\",null,[3]],"
    "\"obj\":{\"k\":{\"deep\":[{\"z\":-7}]},\"e\":{}},\"big\":9007199254740993,\"neg\":-0.0}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nul = memchr(data, '\0', size);
    size_t tlen = nul ? (size_t)(nul - (const char *)data) : size;
    char *text = ek_malloc(tlen + 1);
    memcpy(text, data, tlen);
    text[tlen] = '\0';
    ek_value row;
    ek_err err = {0};
    const char *json = nul ? nul + 1 : default_row;
    size_t jlen = nul ? size - tlen - 1 : sizeof default_row - 1;
    if (ek_json_decode(json, jlen, 0, &row, &err) != 0) {
        err = (ek_err){0};
        if (ek_json_decode(default_row, sizeof default_row - 1, 0, &row, &err) != 0) abort();
    }
    ek_template *t = NULL;
    err = (ek_err){0};
    if (ek_template_compile(text, &t, &err) == 0) {
        ek_buf out = EK_BUF_INIT;
        if (ek_template_render(t, &row, &out, &err) != 0 && !err.msg[0]) abort(); /* a failure says why */
        ek_buf_free(&out);
        ek_template_free(t);
        /* A template without actions renders to itself. */
        if (ek_template_is_static(text)) {
            ek_template *again = NULL;
            ek_buf same = EK_BUF_INIT;
            if (ek_template_compile(text, &again, &err) != 0 || ek_template_render(again, &row, &same, &err) != 0 ||
                same.len != tlen || memcmp(same.data ? same.data : "", text, tlen) != 0)
                abort();
            ek_buf_free(&same);
            ek_template_free(again);
        }
    } else if (!err.msg[0]) {
        abort(); /* a refusal says why */
    }
    ek_value_unref(&row);
    ek_free(text);
    return 0;
}
