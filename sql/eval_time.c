/* Datetime strings for the evaluator: eKuiper compares a datetime with a string by parsing the
 * string as a time, so `ts > "2024-01-01T00:00:00Z"` works. Only the common layouts are read here
 * (RFC 3339 with optional fraction and zone, or a space instead of the T, UTC when no zone); the
 * function library has the full set of formats for cast() and friends, and the calendar
 * arithmetic both use (func__days_from_civil). */
#include "sql/compile_int.h"
#include "sql/func_int.h"

#include <ctype.h>
#include <string.h>

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool ek_eval__parse_time(const char *s, size_t len, int64_t *ns)
{
    int y, mo, d, h, mi, sec;
    if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
        !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
    size_t i = 19;
    int64_t frac = 0, scale = 1000000000;
    if (i < len && s[i] == '.') {
        for (i++; i < len && isdigit((unsigned char)s[i]); i++) {
            if (scale > 1) {
                scale /= 10;
                frac += (s[i] - '0') * scale;
            }
        }
    }
    int64_t offset = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (len - i != 6 || s[i + 3] != ':' || !digits(s + i + 1, 2, &oh) || !digits(s + i + 4, 2, &om)) return false;
        offset = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
        i += 6;
    }
    if (i != len) return false;
    int64_t secs = func__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    *ns = secs * 1000000000 + frac;
    return true;
}
