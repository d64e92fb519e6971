/* Memory helpers used everywhere in kuiperd.
 * Allocation failure is not a recoverable condition on the boxes we run on, so ek_malloc and
 * friends abort with a message instead of returning NULL (as Redis does): callers never check.
 * Sizes that come from the wire must be bounded by the caller before they reach these. */
#ifndef EK_MEM_H
#define EK_MEM_H

#include <stddef.h>

void *ek_malloc(size_t n);
void *ek_calloc(size_t count, size_t size);
void *ek_realloc(void *p, size_t n);
char *ek_strdup(const char *s);
char *ek_strndup(const char *s, size_t n);
/* printf into a freshly allocated string; never returns NULL. */
char *ek_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ek_free(void *p);

#endif
