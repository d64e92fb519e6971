/* LIKE patterns for the expression evaluator: '%' matches any sequence, '_' one UTF-8
 * character, '\' makes the next character literal. A pattern is compiled once into a list of
 * units and matched with the classic single-backtrack wildcard algorithm, which is linear in
 * practice and O(n*m) at worst, never exponential. */
#include "engine/mem.h"
#include "sql/compile_int.h"

#include <string.h>

enum { U_LIT, U_ONE, U_ANY };

typedef struct unit {
    unsigned char kind;
    unsigned char c;
} unit;

struct like_pat {
    size_t n;
    unit u[];
};

like_pat *ek_like_compile(const char *pat, size_t len)
{
    like_pat *p = ek_malloc(sizeof *p + (len + 1) * sizeof(unit));
    p->n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pat[i];
        if (c == '\\' && i + 1 < len) {
            p->u[p->n++] = (unit){U_LIT, (unsigned char)pat[++i]};
        } else if (c == '%') {
            if (p->n == 0 || p->u[p->n - 1].kind != U_ANY) p->u[p->n++] = (unit){U_ANY, 0};
        } else if (c == '_') {
            p->u[p->n++] = (unit){U_ONE, 0};
        } else {
            p->u[p->n++] = (unit){U_LIT, c};
        }
    }
    return p;
}

/* Length of the UTF-8 character at s (1 for invalid bytes), bounded by left. */
static size_t char_len(const unsigned char *s, size_t left)
{
    size_t n = *s < 0x80 ? 1 : (*s >> 5) == 6 ? 2 : (*s >> 4) == 14 ? 3 : (*s >> 3) == 30 ? 4 : 1;
    return n > left ? left : n;
}

bool ek_like_match(const like_pat *p, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    while (si < len) {
        if (pi < p->n && p->u[pi].kind == U_LIT && p->u[pi].c == s[si]) {
            pi++;
            si++;
        } else if (pi < p->n && p->u[pi].kind == U_ONE) {
            pi++;
            si += char_len(s + si, len - si);
        } else if (pi < p->n && p->u[pi].kind == U_ANY) {
            star_p = pi++;
            star_s = si;
        } else if (star_p != (size_t)-1) {
            pi = star_p + 1;
            star_s += char_len(s + star_s, len - star_s);
            si = star_s;
        } else {
            return false;
        }
    }
    while (pi < p->n && p->u[pi].kind == U_ANY) pi++;
    return pi == p->n;
}

void ek_like_free(like_pat *p)
{
    ek_free(p);
}
