/* Error codes and the ek_err carrier.
 * Functions return 0 or a negative EK_E* code. Anything a user may see also fills an ek_err with
 * a message written where the failure happened, naming the rule, stream, file, line:column and what
 * was expected. The code families follow eKuiper's REST error codes so that one table (rest/reply.c)
 * maps them to HTTP; ek_err_code_rest() gives the eKuiper number for a code. */
#ifndef EK_ERR_H
#define EK_ERR_H

#include <stddef.h>

enum {
    EK_OK = 0,
    EK_EINVAL = -1,    /* bad argument or bad input from a user */
    EK_ENOMEM = -2,    /* a bounded resource (queue, cache) is full */
    EK_ENOTFOUND = -3, /* the named thing does not exist */
    EK_EEXIST = -4,    /* the named thing already exists */
    EK_EIO = -5,       /* file, socket or database failure */
    EK_EPARSE = -6,    /* SQL or other syntax error (eKuiper 2001) */
    EK_EPLAN = -7,     /* semantic error while planning a rule (eKuiper 2101) */
    EK_EEXEC = -8,     /* runtime evaluation error (eKuiper 2201) */
    EK_ECONF = -9,     /* configuration error (eKuiper 5000) */
    EK_EBUSY = -10,    /* in use (a stream referenced by a rule) */
    EK_ETYPE = -11,    /* wrong value type */
    EK_ESTATE = -12,   /* operation not valid in the current state */
    EK_EAUTH = -13,    /* authentication or authorization failure */
};

#define EK_ERR_MSG_MAX 512

typedef struct ek_err {
    int code;                  /* 0 or an EK_E* code */
    char msg[EK_ERR_MSG_MAX];  /* human-readable, without trailing newline */
} ek_err;

/* Fills err (if not NULL) with code and a printf-style message; returns code so callers can write
 * `return ek_err_set(err, EK_EINVAL, "...")`. */
int ek_err_set(ek_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepends "prefix: " to an existing message, keeping the code. Returns the code. */
int ek_err_prefix(ek_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ek_err_clear(ek_err *err);
/* A short English name for a code ("invalid argument"...). */
const char *ek_strerror(int code);

#endif
