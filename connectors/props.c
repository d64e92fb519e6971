/* Reading connector properties as eKuiper does: keys match case-insensitively, and values are
 * converted leniently the way Go's mapstructure decodes them ("true" for a bool, "10" for an int,
 * 500 or "500ms" or "2s" for a duration), since users write them in JSON, YAML and env variables.
 * Every getter names the property in its error, so a bad rule is refused with a useful message. */
#include "connectors/sink_transform.h"
#include "engine/config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const ek_value *ek_prop(const ek_value *props, const char *key)
{
    if (!props || props->type != EK_T_OBJECT) return NULL;
    const ek_value *v = ek_object_get_ci(props, key);
    return v && v->type != EK_T_NULL ? v : NULL;
}

const char *ek_prop_str(const ek_value *props, const char *key, const char *dflt)
{
    const ek_value *v = ek_prop(props, key);
    return v && v->type == EK_T_STRING ? ek_str_ptr(v) : dflt;
}

int ek_prop_int(const ek_value *props, const char *key, int64_t dflt, int64_t *out, ek_err *err)
{
    const ek_value *v = ek_prop(props, key);
    *out = dflt;
    if (!v) return 0;
    if (v->type == EK_T_INT) *out = v->i;
    else if (v->type == EK_T_FLOAT && v->f == floor(v->f) && fabs(v->f) < 9e18) *out = (int64_t)v->f;
    else if (v->type == EK_T_STRING && *ek_str_ptr(v)) {
        char *end;
        long long n = strtoll(ek_str_ptr(v), &end, 10);
        if (*end) return ek_err_set(err, EK_EINVAL, "property %s: expected an integer, got \"%s\"", key, ek_str_ptr(v));
        *out = n;
    } else if (v->type != EK_T_STRING) {
        return ek_err_set(err, EK_EINVAL, "property %s: expected an integer, got %s", key, ek_type_name(v->type));
    }
    return 0;
}

int ek_prop_bool(const ek_value *props, const char *key, bool dflt, bool *out, ek_err *err)
{
    const ek_value *v = ek_prop(props, key);
    *out = dflt;
    if (!v) return 0;
    if (v->type == EK_T_BOOL) *out = v->b;
    else if (v->type == EK_T_STRING && (strcasecmp(ek_str_ptr(v), "true") == 0 || strcmp(ek_str_ptr(v), "1") == 0))
        *out = true;
    else if (v->type == EK_T_STRING && (strcasecmp(ek_str_ptr(v), "false") == 0 || strcmp(ek_str_ptr(v), "0") == 0 ||
                                        !*ek_str_ptr(v)))
        *out = false;
    else if (v->type == EK_T_INT) *out = v->i != 0;
    else return ek_err_set(err, EK_EINVAL, "property %s: expected true or false", key);
    return 0;
}

int ek_prop_duration_ms(const ek_value *props, const char *key, int64_t dflt, int64_t *out, ek_err *err)
{
    const ek_value *v = ek_prop(props, key);
    *out = dflt;
    if (!v) return 0;
    if (v->type == EK_T_INT) *out = v->i;
    else if (v->type == EK_T_FLOAT) *out = (int64_t)v->f;
    else if (v->type == EK_T_STRING) {
        if (!*ek_str_ptr(v)) return 0;
        if (!ek_parse_duration_ms(ek_str_ptr(v), out))
            return ek_err_set(err, EK_EINVAL, "property %s: expected a duration such as 500ms or 10s, got \"%s\"", key,
                              ek_str_ptr(v));
    } else {
        return ek_err_set(err, EK_EINVAL, "property %s: expected a duration", key);
    }
    if (*out < 0) return ek_err_set(err, EK_EINVAL, "property %s: must not be negative", key);
    return 0;
}
