/* /config/uploads: list, upload ({name, content} or {name, file: "file:///..."}) and delete files in
 * data/uploads, and the one reader of "file://" URIs that the import endpoints share.
 *
 * Invariant: nothing outside data/uploads is written, and nothing outside it is read unless
 * basic.allowExternalFileAccess is true. Upload names are single path segments (no "/", no "." or
 * "..", no NUL), and a file URI is resolved with realpath() before the prefix check, so neither
 * "../" nor a symbolic link escapes the directory. */
#include "engine/mem.h"
#include "rest/rest_int.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *rest__uploads_dir(const ek_app *app)
{
    return ek_asprintf("%s/uploads", app->data_dir ? app->data_dir : "data");
}

/* Whether real (a resolved path) lies inside data/uploads. */
static bool inside_uploads(const ek_app *app, const char *real)
{
    char *dir = rest__uploads_dir(app);
    char root[PATH_MAX];
    bool ok = realpath(dir, root) != NULL;
    ek_free(dir);
    size_t n = strlen(root);
    return ok && strncmp(real, root, n) == 0 && real[n] == '/';
}

int rest__read_uri(const ek_app *app, const char *uri, ek_buf *out, ek_err *err)
{
    if (strncmp(uri, "file://", 7) != 0)
        return ek_err_set(err, EK_EINVAL, "unsupported file URI \"%s\": only file:///absolute/path is supported", uri);
    const char *path = uri + 7;
    if (path[0] != '/')
        return ek_err_set(err, EK_EINVAL, "file URI \"%s\" must hold an absolute path (file:///...)", uri);
    char real[PATH_MAX];
    if (!realpath(path, real)) return ek_err_set(err, EK_EINVAL, "cannot read %s: %s", path, strerror(errno));
    bool external = app->config && ek_config_bool(app->config, "basic.allowExternalFileAccess");
    if (!external && !inside_uploads(app, real))
        return ek_err_set(err, EK_EINVAL,
                          "%s is outside data/uploads: upload it with POST /config/uploads, or set "
                          "basic.allowExternalFileAccess to true",
                          path);
    if (ek_buf_read_file(out, real, REST_MAX_BODY) != 0) return ek_err_set(err, EK_EINVAL, "cannot read %s: %s", path, strerror(errno));
    return 0;
}

int rest__content(const rest_req *req, const ek_value *body, ek_buf *out, ek_err *err)
{
    const ek_value *content = ek_object_get(body, "content");
    const ek_value *file = ek_object_get(body, "file");
    if (content && content->type == EK_T_STRING && ek_str_len(content) > 0) {
        ek_buf_append(out, ek_str_ptr(content), ek_str_len(content));
        return 0;
    }
    if (file && file->type == EK_T_STRING && ek_str_len(file) > 0)
        return rest__read_uri(req->app, ek_str_ptr(file), out, err);
    return ek_err_set(err, EK_EINVAL, "the body needs \"content\" (a JSON text) or \"file\" (a file:/// URI)");
}

/* A valid upload name, or NULL after writing the 400. */
static const char *upload_name(const ek_value *name, rest_resp *resp)
{
    if (!name || name->type != EK_T_STRING || ek_str_len(name) == 0) {
        rest__error(resp, 400, 1000, "the body needs a \"name\" string: the file name in data/uploads");
        return NULL;
    }
    const char *s = ek_str_ptr(name);
    if (strlen(s) != ek_str_len(name) || strchr(s, '/') || strchr(s, '\\') || !strcmp(s, ".") || !strcmp(s, "..")) {
        rest__error(resp, 400, 1000, "invalid file name \"%s\": a name is one path segment, without \"/\", "
                    "and not \".\" or \"..\"", s);
        return NULL;
    }
    return s;
}

static void list(rest_req *req, rest_resp *resp)
{
    char *dir = rest__uploads_dir(req->app);
    ek_value out = ek_array_new(8);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            char real[PATH_MAX];
            char *path = ek_asprintf("%s/%s", dir, e->d_name);
            ek_array_push(&out, ek_string(realpath(path, real) ? real : path));
            ek_free(path);
        }
        closedir(d);
    }
    ek_free(dir);
    rest__json(resp, 200, &out);
    ek_value_unref(&out);
}

static int write_file(const char *path, const char *data, size_t len, ek_err *err)
{
    char *tmp = ek_asprintf("%s.tmp%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    if (ok && rename(tmp, path) != 0) ok = false;
    if (!ok) {
        ek_err_set(err, EK_EIO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
    ek_free(tmp);
    return ok ? 0 : EK_EIO;
}

static void upload(rest_req *req, rest_resp *resp)
{
    ek_value body;
    if (!rest__body_object(req, resp, &body)) return;
    ek_buf data = EK_BUF_INIT;
    ek_err err = {0};
    const char *name = upload_name(ek_object_get(&body, "name"), resp);
    if (!name) goto out;
    if (rest__content(req, &body, &data, &err) != 0) {
        rest__err(resp, &err);
        goto out;
    }
    char *dir = rest__uploads_dir(req->app);
    char *path = ek_asprintf("%s/%s", dir, name);
    if (write_file(path, data.data ? data.data : "", data.len, &err) != 0) {
        rest__err(resp, &err);
    } else {
        char real[PATH_MAX];
        rest__text(resp, 201, realpath(path, real) ? real : path);
    }
    ek_free(path);
    ek_free(dir);
out:
    ek_buf_free(&data);
    ek_value_unref(&body);
}

static void drop(rest_req *req, rest_resp *resp)
{
    ek_value name = ek_string(req->params[0]);
    const char *n = upload_name(&name, resp);
    if (n) {
        char *dir = rest__uploads_dir(req->app);
        char *path = ek_asprintf("%s/%s", dir, n);
        if (unlink(path) == 0) rest__text(resp, 200, "");
        else if (errno == ENOENT) rest__error(resp, 404, 1002, "file %s is not found in data/uploads", n);
        else rest__error(resp, 500, 1003, "cannot delete %s: %s", path, strerror(errno));
        ek_free(path);
        ek_free(dir);
    }
    ek_value_unref(&name);
}

const rest_route rest__routes_uploads[] = {
    {"GET", "/config/uploads", list},
    {"POST", "/config/uploads", upload},
    {"DELETE", "/config/uploads/{name}", drop},
    {NULL, NULL, NULL},
};
