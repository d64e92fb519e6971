/* PCRE2 (8-bit), loaded on first use (engine/lazy_lib.h): only the SQL regular-expression functions
 * (sql/func_str.c) and the broker's topic rewrite rules (broker/rewrite.c) need it, and an idle
 * kuiperd without rewrite rules should not carry it (bench/RESULTS.md, "Idle memory"). The
 * functions below are the ones kuiperd calls, with pcre2.h's prototypes (its macros map each name to
 * its _8 symbol); each forwards to libpcre2-8. Without the library, compiling a pattern fails with
 * PCRE2_ERROR_INTERNAL, so the callers report a bad pattern and nothing else changes. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "engine/lazy_lib.h"

#include <pcre2.h>
#include <stdio.h>

static struct {
    __typeof__(pcre2_compile) *compile;
    __typeof__(pcre2_code_free) *code_free;
    __typeof__(pcre2_get_error_message) *get_error_message;
    __typeof__(pcre2_match_data_create_from_pattern) *md_create;
    __typeof__(pcre2_match_data_free) *md_free;
    __typeof__(pcre2_match) *match;
    __typeof__(pcre2_get_ovector_pointer) *ovector;
    __typeof__(pcre2_pattern_info) *pattern_info;
    __typeof__(pcre2_substitute) *substitute;
} p;

static const struct ek_lazy_sym syms[] = {
    {"pcre2_compile_8", (void **)&p.compile},
    {"pcre2_code_free_8", (void **)&p.code_free},
    {"pcre2_get_error_message_8", (void **)&p.get_error_message},
    {"pcre2_match_data_create_from_pattern_8", (void **)&p.md_create},
    {"pcre2_match_data_free_8", (void **)&p.md_free},
    {"pcre2_match_8", (void **)&p.match},
    {"pcre2_get_ovector_pointer_8", (void **)&p.ovector},
    {"pcre2_pattern_info_8", (void **)&p.pattern_info},
    {"pcre2_substitute_8", (void **)&p.substitute},
};
static struct ek_lazy_lib lib = {"libpcre2-8.so.0", "regular expressions (PCRE2)", syms, sizeof syms / sizeof syms[0], 0};

#define OK (ek_lazy_ready(&lib))

EK_LAZY_FN pcre2_code *pcre2_compile(PCRE2_SPTR pat, PCRE2_SIZE len, uint32_t opts, int *ecode, PCRE2_SIZE *eoff,
                                     pcre2_compile_context *cc)
{
    if (OK) return p.compile(pat, len, opts, ecode, eoff, cc);
    *ecode = PCRE2_ERROR_INTERNAL;
    *eoff = 0;
    return NULL;
}
EK_LAZY_FN void pcre2_code_free(pcre2_code *c) { if (c && OK) p.code_free(c); }
EK_LAZY_FN int pcre2_get_error_message(int code, PCRE2_UCHAR *buf, PCRE2_SIZE len)
{
    if (OK) return p.get_error_message(code, buf, len);
    return snprintf((char *)buf, len, "libpcre2-8 is not available");
}
EK_LAZY_FN pcre2_match_data *pcre2_match_data_create_from_pattern(const pcre2_code *c, pcre2_general_context *gc)
{
    return OK ? p.md_create(c, gc) : NULL;
}
EK_LAZY_FN void pcre2_match_data_free(pcre2_match_data *md) { if (md && OK) p.md_free(md); }
EK_LAZY_FN int pcre2_match(const pcre2_code *c, PCRE2_SPTR s, PCRE2_SIZE len, PCRE2_SIZE start, uint32_t opts,
                           pcre2_match_data *md, pcre2_match_context *mc)
{
    return OK ? p.match(c, s, len, start, opts, md, mc) : PCRE2_ERROR_INTERNAL;
}
EK_LAZY_FN PCRE2_SIZE *pcre2_get_ovector_pointer(pcre2_match_data *md) { return OK ? p.ovector(md) : NULL; }
EK_LAZY_FN int pcre2_pattern_info(const pcre2_code *c, uint32_t what, void *where)
{
    return OK ? p.pattern_info(c, what, where) : PCRE2_ERROR_INTERNAL;
}
EK_LAZY_FN int pcre2_substitute(const pcre2_code *c, PCRE2_SPTR s, PCRE2_SIZE len, PCRE2_SIZE start, uint32_t opts,
                                pcre2_match_data *md, pcre2_match_context *mc, PCRE2_SPTR rep, PCRE2_SIZE rlen,
                                PCRE2_UCHAR *out, PCRE2_SIZE *olen)
{
    return OK ? p.substitute(c, s, len, start, opts, md, mc, rep, rlen, out, olen) : PCRE2_ERROR_INTERNAL;
}
