/* Time zones read from the system's IANA database (/usr/share/zoneinfo), without touching the
 * process-wide TZ: convert_tz() uses them (func_tz.c), and the rule engine aligns windows to
 * basic.timezone with them (a day window ends at midnight in that zone). A zone is immutable once
 * opened, so any thread may read it. */
#ifndef EK_SQL_TZ_H
#define EK_SQL_TZ_H

#include "engine/err.h"

#include <stdint.h>

typedef struct ek_tz ek_tz;

/* Opens a zone: "UTC" (or ""), "Local" (the TZ environment variable, else /etc/localtime) or an
 * IANA name ("Asia/Shanghai"). EK_EINVAL with err naming the zone when it is unknown. */
int ek_tz_open(const char *name, ek_tz **out, ek_err *err);
/* The zone's offset from UTC, in ms, in force at utc_ms (ms since the epoch). */
int64_t ek_tz_offset_ms(const ek_tz *z, int64_t utc_ms);
/* Accepts NULL. */
void ek_tz_free(ek_tz *z);

#endif
