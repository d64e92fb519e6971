/* The dashboard's embedded files: rest/dashboard/<path> becomes one entry of
 * rest__dashboard_assets in a C source generated at build time by rest/embed_assets.cmake. */
#ifndef EK_DASHBOARD_INT_H
#define EK_DASHBOARD_INT_H

#include <stddef.h>

typedef struct rest_asset {
    const char *path;          /* "/index.html", "/js/app.js" */
    const unsigned char *data;
    size_t len;
} rest_asset;

/* Ends with {NULL}. */
extern const rest_asset rest__dashboard_assets[];

#endif
