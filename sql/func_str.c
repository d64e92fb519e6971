/* String SQL functions (eKuiper docs: sqls/functions/string_functions.md; format_time lives with
 * the datetime functions in func_time.c).
 * Lengths, indexes and padding count UTF-8 characters, except numbytes and indexof, which count
 * bytes as eKuiper does. Regular expressions are PCRE2 (a superset of the RE2 syntax eKuiper's Go
 * regexp accepts), compiled once per call site and pattern and kept in ctx->cache. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "sql/func_int.h"
#include "engine/mem.h"

#include <ctype.h>
#include <locale.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <wctype.h>

/* The string form of argument i (any type, as eKuiper's ToStringAlways), in b. */
static const char *str_of(const ek_value *v, ek_buf *b)
{
    ek_buf_reset(b);
    func__append_str(v, b);
    return b->data ? b->data : "";
}

/* Number of UTF-8 characters in s[0..len). Continuation bytes are not counted. */
static size_t utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

/* Byte offset of character index ci (clamped to len). */
static size_t utf8_offset(const char *s, size_t len, size_t ci)
{
    size_t i = 0;
    while (i < len && ci > 0) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        ci--;
    }
    return i;
}

static int strarg(const char *fn, const ek_value *a, int i, const char **s, size_t *len, ek_err *e)
{
    return func__arg_str(fn, a, i, s, len, e);
}

/* ---- concat, length, numbytes ---- */

static int f_concat(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    int first = 0;
    while (first < n && a[first].type == EK_T_NULL) first++;
    if (first < n && a[first].type == EK_T_ARRAY) {
        *o = ek_array_new(0);
        for (int i = first; i < n; i++) {
            if (a[i].type == EK_T_NULL) continue;
            if (a[i].type != EK_T_ARRAY) { ek_value_unref(o); return func__type_err(e, "concat", i, "an array", &a[i]); }
            for (size_t k = 0; k < ek_array_len(&a[i]); k++) ek_array_push(o, ek_value_ref(ek_array_get(&a[i], k)));
        }
        return 0;
    }
    ek_buf b = EK_BUF_INIT;
    for (int i = 0; i < n; i++) func__append_str(&a[i], &b);
    *o = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

static int f_length(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    switch (a[0].type) {
    case EK_T_NULL: *o = ek_int(0); return 0;
    case EK_T_ARRAY: *o = ek_int((int64_t)ek_array_len(&a[0])); return 0;
    case EK_T_OBJECT: *o = ek_int((int64_t)ek_object_len(&a[0])); return 0;
    default: break;
    }
    ek_buf b = EK_BUF_INIT;
    str_of(&a[0], &b);
    *o = ek_int((int64_t)utf8_count(b.data ? b.data : "", b.len));
    ek_buf_free(&b);
    return 0;
}

static int f_numbytes(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *s;
    size_t len;
    if (a[0].type == EK_T_NULL) { *o = ek_int(0); return 0; }
    if (strarg("numbytes", a, 0, &s, &len, e)) return e->code;
    *o = ek_int((int64_t)len);
    return 0;
}

/* ---- prefix, suffix, index ---- */

typedef enum { AFFIX_START, AFFIX_END } affix;

static int affix_test(const char *fn, affix which, const ek_value *a, ek_value *o, ek_err *e)
{
    const char *s, *t;
    size_t sl, tl;
    if (func__any_null(a, 2)) { *o = ek_bool(false); return 0; }
    if (strarg(fn, a, 0, &s, &sl, e) || strarg(fn, a, 1, &t, &tl, e)) return e->code;
    bool ok = tl <= sl && memcmp(which == AFFIX_START ? s : s + sl - tl, t, tl) == 0;
    *o = ek_bool(ok);
    return 0;
}

static int f_startswith(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return affix_test("startswith", AFFIX_START, a, o, e); }
static int f_endswith(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return affix_test("endswith", AFFIX_END, a, o, e); }

static int f_indexof(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *s, *t;
    size_t sl, tl;
    if (func__any_null(a, 2)) { *o = ek_int(-1); return 0; }
    if (strarg("indexof", a, 0, &s, &sl, e) || strarg("indexof", a, 1, &t, &tl, e)) return e->code;
    const char *hit = memmem(s, sl, t, tl);
    *o = ek_int(hit ? (int64_t)(hit - s) : -1);
    return 0;
}

/* ---- case, trimming, padding, reversing ---- */

/* Unicode case mapping comes from glibc's C.UTF-8 locale, loaded once and never changed, so the
 * process locale (and other threads) are untouched; without it only ASCII letters change. */
static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void load_utf8_locale(void) { utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0); }

typedef enum { CASE_LOWER, CASE_UPPER } case_dir;

static int map_case(const char *fn, case_dir dir, const ek_value *a, ek_value *o, ek_err *e)
{
    const char *s;
    size_t len;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (strarg(fn, a, 0, &s, &len, e)) return e->code;
    pthread_once(&utf8_once, load_utf8_locale);
    ek_buf b = EK_BUF_INIT;
    ek_buf_reserve(&b, len + 1);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        bool valid;
        size_t k = func__utf8_decode(s + i, len - i, &cp, &valid);
        if (!valid) { ek_buf_append(&b, s + i, k); i += k; continue; }
        wint_t m = cp;
        if (cp < 0x80) m = (wint_t)(dir == CASE_LOWER ? tolower((int)cp) : toupper((int)cp));
        else if (utf8_locale) m = dir == CASE_LOWER ? towlower_l((wint_t)cp, utf8_locale) : towupper_l((wint_t)cp, utf8_locale);
        char enc[4];
        ek_buf_append(&b, enc, func__utf8_encode((uint32_t)m, enc));
        i += k;
    }
    *o = ek_string_n(b.data ? b.data : "", b.len);
    ek_buf_free(&b);
    return 0;
}

static int f_lower(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return map_case("lower", CASE_LOWER, a, o, e); }
static int f_upper(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return map_case("upper", CASE_UPPER, a, o, e); }

/* Length of the Unicode white space at s (ASCII space class, U+0085, U+00A0), or 0. */
static size_t space_at(const char *s, size_t left)
{
    unsigned char ch = (unsigned char)s[0];
    if (ch == ' ' || (ch >= '\t' && ch <= '\r')) return 1;
    if (left >= 2 && ch == 0xC2 && ((unsigned char)s[1] == 0x85 || (unsigned char)s[1] == 0xA0)) return 2;
    return 0;
}

typedef enum { TRIM_LEFT = 1, TRIM_RIGHT = 2, TRIM_BOTH = 3 } trim_side;

static int trim_str(const char *fn, trim_side side, const ek_value *a, ek_value *o, ek_err *e)
{
    const char *s;
    size_t len, k;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (strarg(fn, a, 0, &s, &len, e)) return e->code;
    const char *end = s + len;
    if (side & TRIM_LEFT)
        while (s < end && (k = space_at(s, (size_t)(end - s))) > 0) s += k;
    if (side & TRIM_RIGHT)
        for (;;) {
            if (end > s && space_at(end - 1, 1) == 1) end--;
            else if (end - s >= 2 && space_at(end - 2, 2) == 2) end -= 2;
            else break;
        }
    *o = ek_string_n(s, (size_t)(end - s));
    return 0;
}

static int f_trim(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return trim_str("trim", TRIM_BOTH, a, o, e); }
static int f_ltrim(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return trim_str("ltrim", TRIM_LEFT, a, o, e); }
static int f_rtrim(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return trim_str("rtrim", TRIM_RIGHT, a, o, e); }

/* Padding is bounded so one bad row cannot take the box's memory. */
#define PAD_MAX (16 * 1024 * 1024)

static int pad(const char *fn, bool left, const ek_value *a, ek_value *o, ek_err *e)
{
    const char *s;
    size_t len;
    int64_t k;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    if (strarg(fn, a, 0, &s, &len, e) || func__arg_int(fn, a, 1, &k, e)) return e->code;
    if (k < 0 || k > PAD_MAX) return ek_err_set(e, EK_EINVAL, "%s: argument 2 must be between 0 and %d, got %lld", fn, PAD_MAX, (long long)k);
    ek_str *r = ek_str_new(len + (size_t)k);
    memset(left ? r->data : r->data + len, ' ', (size_t)k);
    memcpy(left ? r->data + k : r->data, s, len);
    *o = ek_string_take(r);
    return 0;
}

static int f_lpad(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return pad("lpad", true, a, o, e); }
static int f_rpad(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e) { return pad("rpad", false, a, o, e); }

static int f_reverse(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *s;
    size_t len;
    if (a[0].type == EK_T_NULL) { *o = ek_null(); return 0; }
    if (strarg("reverse", a, 0, &s, &len, e)) return e->code;
    ek_str *r = ek_str_new(len);
    size_t w = len;
    for (size_t i = 0; i < len;) {
        size_t j = i + 1;
        while (j < len && ((unsigned char)s[j] & 0xC0) == 0x80) j++;
        w -= j - i;
        memcpy(r->data + w, s + i, j - i);
        i = j;
    }
    *o = ek_string_take(r);
    return 0;
}

/* ---- substring and split_value ---- */

/* substring(s, start[, end]): 0-based character indexes, end exclusive (eKuiper's code). */
static int f_substring(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *s;
    size_t len;
    int64_t start, end = INT64_MAX;
    if (func__any_null(a, n)) { *o = ek_null(); return 0; }
    if (strarg("substring", a, 0, &s, &len, e) || func__arg_int("substring", a, 1, &start, e)) return e->code;
    if (n == 3 && func__arg_int("substring", a, 2, &end, e)) return e->code;
    if (start < 0) return ek_err_set(e, EK_EINVAL, "substring: start index must be a positive number, got %lld", (long long)start);
    if (end < 0) return ek_err_set(e, EK_EINVAL, "substring: end index must be a positive number, got %lld", (long long)end);
    if (start > end) return ek_err_set(e, EK_EINVAL, "substring: start index must be smaller than end index");
    size_t b0 = utf8_offset(s, len, (size_t)start);
    size_t b1 = end == INT64_MAX ? len : utf8_offset(s, len, (size_t)end);
    *o = ek_string_n(s + b0, b1 - b0);
    return 0;
}

static int f_split_value(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *s, *sep;
    size_t len, seplen;
    int64_t idx;
    if (func__any_null(a, 3)) { *o = ek_null(); return 0; }
    if (strarg("split_value", a, 0, &s, &len, e) || strarg("split_value", a, 1, &sep, &seplen, e) ||
        func__arg_int("split_value", a, 2, &idx, e))
        return e->code;
    /* Collect the part boundaries; an empty separator splits into characters, as Go does. */
    size_t cap = 16, count = 0, pos = 0;
    size_t *starts = ek_malloc(cap * sizeof *starts), *ends = ek_malloc(cap * sizeof *ends);
    while (seplen > 0 || pos < len) {
        if (count == cap) {
            cap *= 2;
            starts = ek_realloc(starts, cap * sizeof *starts);
            ends = ek_realloc(ends, cap * sizeof *ends);
        }
        const char *hit = seplen ? memmem(s + pos, len - pos, sep, seplen) : s + pos + utf8_offset(s + pos, len - pos, 1);
        starts[count] = pos;
        ends[count++] = hit ? (size_t)(hit - s) : len;
        if (!hit) break;
        pos = (size_t)(hit - s) + seplen;
    }
    int rc = 0;
    int64_t cnt = (int64_t)count;
    if (idx >= cnt || idx < -cnt) {
        rc = ek_err_set(e, EK_EINVAL, "split_value: %lld out of index array (size = %lld)", (long long)idx, (long long)cnt);
    } else {
        size_t k = (size_t)(idx < 0 ? cnt + idx : idx);
        *o = ek_string_n(s + starts[k], ends[k] - starts[k]);
    }
    ek_free(starts);
    ek_free(ends);
    return rc;
}

/* ---- regular expressions ---- */

typedef struct re_cache {
    char *pattern;
    size_t len;
    pcre2_code *code;
    pcre2_match_data *md;
} re_cache;

static void re_cache_free(void *p)
{
    re_cache *rc = p;
    pcre2_match_data_free(rc->md);
    pcre2_code_free(rc->code);
    ek_free(rc->pattern);
    ek_free(rc);
}

/* The compiled pattern for this call site, compiling (and caching) it when it changed. */
static re_cache *regex_get(const char *fn, ek_func_ctx *ctx, const char *pat, size_t plen, ek_err *e)
{
    re_cache *rc = ctx ? ctx->cache : NULL;
    if (rc && rc->len == plen && memcmp(rc->pattern, pat, plen) == 0) return rc;
    int ecode;
    PCRE2_SIZE eoff;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pat, plen, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ecode, &eoff, NULL);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ecode, msg, sizeof msg);
        ek_err_set(e, EK_EINVAL, "%s: invalid regular expression at offset %zu: %s", fn, (size_t)eoff, (char *)msg);
        return NULL;
    }
    re_cache *fresh = ek_calloc(1, sizeof *fresh);
    fresh->pattern = ek_strndup(pat, plen);
    fresh->len = plen;
    fresh->code = code;
    fresh->md = pcre2_match_data_create_from_pattern(code, NULL);
    if (ctx) {
        if (ctx->cache && ctx->cache_free) ctx->cache_free(ctx->cache);
        ctx->cache = fresh;
        ctx->cache_free = re_cache_free;
    }
    return fresh;
}

/* Runs the regex once; returns the match count (>0), 0 for no match, or sets err (<0). */
static int regex_run(const char *fn, ek_func_ctx *ctx, const ek_value *a, re_cache **out, ek_err *e)
{
    const char *s, *p;
    size_t sl, pl;
    if (strarg(fn, a, 0, &s, &sl, e) || strarg(fn, a, 1, &p, &pl, e)) return e->code;
    re_cache *rc = regex_get(fn, ctx, p, pl, e);
    if (!rc) return e->code;
    *out = rc;
    int m = pcre2_match(rc->code, (PCRE2_SPTR)s, sl, 0, 0, rc->md, NULL);
    if (m == PCRE2_ERROR_NOMATCH) return 0;
    if (m < 0) return ek_err_set(e, EK_EEXEC, "%s: regular expression match failed (%d)", fn, m);
    return 1;
}

static void regex_done(ek_func_ctx *ctx, re_cache *rc)
{
    if (!ctx || ctx->cache != rc) re_cache_free(rc);
}

static int f_regexp_matches(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    re_cache *rc = NULL;
    if (func__any_null(a, 2)) { *o = ek_bool(false); return 0; }
    int m = regex_run("regexp_matches", c, a, &rc, e);
    if (rc) regex_done(c, rc);
    if (m < 0) return m;
    *o = ek_bool(m > 0);
    return 0;
}

static int f_regexp_substr(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    re_cache *rc = NULL;
    if (func__any_null(a, 2)) { *o = ek_null(); return 0; }
    int m = regex_run("regexp_substr", c, a, &rc, e);
    if (m > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(rc->md);
        *o = ek_string_n(ek_str_ptr(&a[0]) + ov[0], ov[1] - ov[0]);
    } else if (m == 0) {
        *o = ek_string("");
    }
    if (rc) regex_done(c, rc);
    return m < 0 ? m : 0;
}

/* regexp_replace(s, re, repl): every match replaced; $1 and ${name} in repl expand groups. */
static int f_regexp_replace(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    const char *s, *p, *r;
    size_t sl, pl, rl;
    if (func__any_null(a, 3)) { *o = ek_null(); return 0; }
    if (strarg("regexp_replace", a, 0, &s, &sl, e) || strarg("regexp_replace", a, 1, &p, &pl, e) ||
        strarg("regexp_replace", a, 2, &r, &rl, e))
        return e->code;
    re_cache *rc = regex_get("regexp_replace", c, p, pl, e);
    if (!rc) return e->code;
    uint32_t opts = PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
                    PCRE2_SUBSTITUTE_UNKNOWN_UNSET | PCRE2_SUBSTITUTE_UNSET_EMPTY;
    PCRE2_SIZE outlen = sl + rl + 64;
    int rcode = 0;
    for (int tries = 0; tries < 2; tries++) {
        PCRE2_UCHAR *buf = ek_malloc(outlen + 1);
        PCRE2_SIZE got = outlen + 1;
        int m = pcre2_substitute(rc->code, (PCRE2_SPTR)s, sl, 0, opts, rc->md, NULL, (PCRE2_SPTR)r, rl, buf, &got);
        if (m >= 0) {
            *o = ek_string_n((char *)buf, got);
            ek_free(buf);
            break;
        }
        ek_free(buf);
        if (m == PCRE2_ERROR_NOMEMORY && tries == 0) { outlen = got; continue; }
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(m, msg, sizeof msg);
        rcode = ek_err_set(e, EK_EINVAL, "regexp_replace: %s", (char *)msg);
        break;
    }
    regex_done(c, rc);
    return rcode;
}

/* ---- format(x, decimals[, locale]) ---- */

/* Grouping and decimal separators per locale, as eKuiper (golang.org/x/text) prints them;
 * a well-formed locale not listed uses "," and ".". ar_IN also switches to Arabic-Indic digits. */
static const struct { const char *group, *dec, *locales; } styles[] = {
    {".", ",", "ar_DZ ar_LB ar_LY ar_MA ar_TN ca_ES da_DK de_BE de_DE de_LU el_GR es_AR es_BO es_CL es_CO "
               "es_EC es_ES es_PY es_UY es_VE eu_ES fo_FO fr_LU gl_ES hr_HR id_ID is_IS it_IT mk_MK nl_BE "
               "nl_NL pt_BR ro_RO sl_SI sr_RS tr_TR vi_VN"},
    {"\xe2\x80\x99", ".", "de_CH it_CH rm_CH"},
    {"\xc2\xa0", ",", "be_BY bg_BG cs_CZ de_AT en_ZA es_CR et_EE fi_FI fr_BE fr_CA fr_CH fr_FR hu_HU lt_LT "
                     "lv_LV nb_NO pl_PL pt_PT ru_RU ru_UA sk_SK sq_AL sv_FI sv_SE uk_UA"},
    {"\xd9\xac", "\xd9\xab", "ar_IN"},
};

static void put_digit(ek_buf *b, char d, bool arabic)
{
    if (!arabic) { ek_buf_putc(b, d); return; }
    char u[2] = {(char)0xd9, (char)(0xa0 + (d - '0'))};  /* U+0660.. ARABIC-INDIC DIGIT */
    ek_buf_append(b, u, 2);
}

static int f_format(ek_func_ctx *c, const ek_value *a, int n, ek_value *o, ek_err *e)
{
    double x;
    int64_t d;
    if (func__any_null(a, n)) { *o = ek_null(); return 0; }
    if (func__arg_double("format", a, 0, &x, e) || func__arg_int("format", a, 1, &d, e)) return e->code;
    if (d < 0 || d > 30) return ek_err_set(e, EK_EINVAL, "format: the decimal places must be between 0 and 30");
    const char *group = NULL, *dec = ".";
    bool arabic = false;
    if (n == 3) {
        const char *loc;
        size_t ll;
        if (strarg("format", a, 2, &loc, &ll, e)) return e->code;
        bool ok = ll == 5 && islower((unsigned char)loc[0]) && islower((unsigned char)loc[1]) &&
                  (loc[2] == '_' || loc[2] == '-') && isupper((unsigned char)loc[3]) && isupper((unsigned char)loc[4]);
        if (!ok) return ek_err_set(e, EK_EINVAL, "format: not support for the specific locale: %s", loc);
        group = ",";
        for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
            const char *hit = strstr(styles[i].locales, (char[6]){loc[0], loc[1], '_', loc[3], loc[4], 0});
            if (hit) { group = styles[i].group; dec = styles[i].dec; arabic = i == 3; break; }
        }
    }
    char num[400];
    snprintf(num, sizeof num, "%.*f", (int)d, x);
    const char *p = num, *dot = strchr(num, '.');
    size_t intlen = dot ? (size_t)(dot - num) : strlen(num);
    ek_buf b = EK_BUF_INIT;
    if (*p == '-') { ek_buf_putc(&b, '-'); p++; intlen--; }
    for (size_t i = 0; i < intlen; i++) {
        if (group && i > 0 && (intlen - i) % 3 == 0) ek_buf_puts(&b, group);
        put_digit(&b, p[i], arabic);
    }
    if (dot) {
        ek_buf_puts(&b, dec);
        for (const char *f = dot + 1; *f; f++) put_digit(&b, *f, arabic);
    }
    *o = ek_string_n(b.data, b.len);
    ek_buf_free(&b);
    return 0;
}

const ek_func_def ek_funcs_str[] = {
    {"concat", EK_FUNC_SCALAR, 1, -1, f_concat, NULL, true},
    {"endswith", EK_FUNC_SCALAR, 2, 2, f_endswith, NULL, true},
    {"format", EK_FUNC_SCALAR, 2, 3, f_format, NULL, true},
    {"indexof", EK_FUNC_SCALAR, 2, 2, f_indexof, NULL, true},
    {"length", EK_FUNC_SCALAR, 1, 1, f_length, NULL, true},
    {"lower", EK_FUNC_SCALAR, 1, 1, f_lower, NULL, true},
    {"lpad", EK_FUNC_SCALAR, 2, 2, f_lpad, NULL, true},
    {"ltrim", EK_FUNC_SCALAR, 1, 1, f_ltrim, NULL, true},
    {"numbytes", EK_FUNC_SCALAR, 1, 1, f_numbytes, NULL, true},
    {"regexp_matches", EK_FUNC_SCALAR, 2, 2, f_regexp_matches, NULL, true},
    {"regexp_replace", EK_FUNC_SCALAR, 3, 3, f_regexp_replace, NULL, true},
    {"regexp_substr", EK_FUNC_SCALAR, 2, 2, f_regexp_substr, NULL, true},
    {"regexp_substring", EK_FUNC_SCALAR, 2, 2, f_regexp_substr, NULL, true},
    {"reverse", EK_FUNC_SCALAR, 1, 1, f_reverse, NULL, true},
    {"rpad", EK_FUNC_SCALAR, 2, 2, f_rpad, NULL, true},
    {"rtrim", EK_FUNC_SCALAR, 1, 1, f_rtrim, NULL, true},
    {"split_value", EK_FUNC_SCALAR, 3, 3, f_split_value, NULL, true},
    {"startswith", EK_FUNC_SCALAR, 2, 2, f_startswith, NULL, true},
    {"substring", EK_FUNC_SCALAR, 2, 3, f_substring, NULL, true},
    {"trim", EK_FUNC_SCALAR, 1, 1, f_trim, NULL, true},
    {"upper", EK_FUNC_SCALAR, 1, 1, f_upper, NULL, true},
    {NULL, 0, 0, 0, NULL, NULL, false},
};
