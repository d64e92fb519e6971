/* ek_buf implementation (see buf.h). Grows by doubling; data is kept NUL-terminated. */
#include "engine/buf.h"
#include "engine/mem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ek_buf_reserve(ek_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    b->data = ek_realloc(b->data, cap);
    b->cap = cap;
}

void ek_buf_append(ek_buf *b, const void *p, size_t n)
{
    ek_buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ek_buf_puts(ek_buf *b, const char *s)
{
    ek_buf_append(b, s, strlen(s));
}

void ek_buf_putc(ek_buf *b, char c)
{
    ek_buf_append(b, &c, 1);
}

void ek_buf_printf(ek_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    ek_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ek_buf_reset(ek_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

char *ek_buf_detach(ek_buf *b)
{
    char *d = b->data ? b->data : ek_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void ek_buf_free(ek_buf *b)
{
    ek_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int ek_buf_read_file(ek_buf *b, const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    errno = 0;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (max && b->len + n > max) {
            fclose(f);
            errno = EFBIG;
            return -1;
        }
        ek_buf_append(b, chunk, n);
    }
    if (ferror(f)) {
        int e = errno ? errno : EIO;  /* why the read failed (EISDIR for a directory) */
        fclose(f);
        errno = e;
        return -1;
    }
    fclose(f);
    return 0;
}
