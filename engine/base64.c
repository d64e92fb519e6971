/* Base64 decoding for the forms of engine/base64.h, on OpenSSL's EVP_DecodeBlock. */
#include "engine/base64.h"

#include "engine/mem.h"

#include <openssl/evp.h>
#include <stdbool.h>

static bool alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* The standard character for c in form, or 0 when c is not in form's alphabet. */
static char to_std(char c, ek_b64_form form)
{
    if (alnum(c)) return c;
    if (form == EK_B64_URL) return c == '-' ? '+' : c == '_' ? '/' : 0;
    return c == '.' || c == '+' ? '+' : c == '/' ? '/' : 0; /* EK_B64_PASSLIB ('+' read too) */
}

static long decode_std(const char *in, size_t len, uint8_t *out)
{
    if (len % 4) return -1;
    int n = len ? EVP_DecodeBlock(out, (const unsigned char *)in, (int)len) : 0;
    if (n < 0) return -1;
    for (size_t i = len; i > 0 && len - i < 2 && in[i - 1] == '='; i--) n--; /* padding counts as zero bytes */
    return n;
}

long ek_base64_decode(const char *in, size_t len, ek_b64_form form, uint8_t *out)
{
    if (form == EK_B64_STD) return decode_std(in, len, out);
    if (len % 4 == 1) return -1;
    size_t padded = (len + 3) / 4 * 4;
    char small[128];
    char *tmp = padded < sizeof small ? small : ek_malloc(padded + 1);
    long n = 0;
    for (size_t i = 0; i < len && n == 0; i++)
        if (!(tmp[i] = to_std(in[i], form))) n = -1;
    if (n == 0) {
        for (size_t i = len; i < padded; i++) tmp[i] = '=';
        n = decode_std(tmp, padded, out);
    }
    if (tmp != small) ek_free(tmp);
    return n;
}
