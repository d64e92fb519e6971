/* ek_buf: a growable byte buffer, always NUL-terminated, for building strings and payloads. */
#ifndef EK_BUF_H
#define EK_BUF_H

#include <stddef.h>

typedef struct ek_buf {
    char *data;  /* NULL until the first append; NUL-terminated after */
    size_t len, cap;
} ek_buf;

#define EK_BUF_INIT {NULL, 0, 0}

void ek_buf_append(ek_buf *b, const void *p, size_t n);
void ek_buf_puts(ek_buf *b, const char *s);
void ek_buf_putc(ek_buf *b, char c);
void ek_buf_printf(ek_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ek_buf_reserve(ek_buf *b, size_t extra);
void ek_buf_reset(ek_buf *b);  /* len = 0, keeps memory */
/* Returns the data (caller frees with ek_free; "" if empty) and resets b to empty. */
char *ek_buf_detach(ek_buf *b);
void ek_buf_free(ek_buf *b);
/* Appends the whole file at path to b. Returns 0, or -1 with errno set: from fopen, EFBIG when b
 * would grow past max bytes (0: no bound), or the read's error (EISDIR, EIO ...); b keeps what
 * was read. */
int ek_buf_read_file(ek_buf *b, const char *path, size_t max);

#endif
