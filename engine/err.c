/* ek_err helpers (see err.h). Messages are truncated, never overflowed. */
#include "engine/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ek_err_set(ek_err *err, int code, const char *fmt, ...)
{
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int ek_err_prefix(ek_err *err, const char *fmt, ...)
{
    if (!err) return EK_EINVAL;
    char prefix[EK_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[EK_ERR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    size_t n = strnlen(prefix, sizeof err->msg - 1);
    memcpy(err->msg, prefix, n);
    size_t rest = sizeof err->msg - n - 1;
    const char *parts[2] = {": ", old};
    for (int i = 0; i < 2 && rest; i++) {
        size_t m = strnlen(parts[i], rest);
        memcpy(err->msg + n, parts[i], m);
        n += m;
        rest -= m;
    }
    err->msg[n] = '\0';
    return err->code;
}

void ek_err_clear(ek_err *err)
{
    if (!err) return;
    err->code = 0;
    err->msg[0] = '\0';
}

const char *ek_strerror(int code)
{
    switch (code) {
    case EK_OK: return "ok";
    case EK_EINVAL: return "invalid argument";
    case EK_ENOMEM: return "resource exhausted";
    case EK_ENOTFOUND: return "not found";
    case EK_EEXIST: return "already exists";
    case EK_EIO: return "i/o error";
    case EK_EPARSE: return "parse error";
    case EK_EPLAN: return "planning error";
    case EK_EEXEC: return "execution error";
    case EK_ECONF: return "configuration error";
    case EK_EBUSY: return "in use";
    case EK_ETYPE: return "wrong type";
    case EK_ESTATE: return "invalid state";
    case EK_EAUTH: return "not authorized";
    default: return "unknown error";
    }
}
