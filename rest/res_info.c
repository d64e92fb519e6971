/* GET / (server information) and GET /ping, as eKuiper answers them. */
#include "engine/mem.h"
#include "rest/rest_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *go_arch(const char *machine)
{
    static const struct { const char *uname, *go; } arches[] = {
        {"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"}, {"armv6l", "arm"}, {"i686", "386"},
        {"riscv64", "riscv64"},
    };
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
        if (strcmp(machine, arches[i].uname) == 0) return arches[i].go;
    return machine;
}

/* Resident memory of this process in bytes, from /proc. */
static long long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%lld %lld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static void info(rest_req *req, rest_resp *resp)
{
    struct utsname u;
    uname(&u);
    ek_value v = ek_object_new(6);
    ek_object_set(&v, "version", ek_string(EK_VERSION));
    ek_object_set(&v, "os", ek_string("linux"));
    ek_object_set(&v, "arch", ek_string(go_arch(u.machine)));
    ek_object_set(&v, "upTimeSeconds", ek_int((ek_now_ms() - req->app->started_ms) / 1000));
    ek_object_set(&v, "memoryUsed", ek_string_fmt("%lld", rss_bytes()));
    long long total = (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);
    ek_object_set(&v, "memoryTotal", ek_string_fmt("%lld", total));
    rest__json(resp, 200, &v);
    ek_value_unref(&v);
}

static void ping(rest_req *req, rest_resp *resp)
{
    rest__text(resp, 200, "");
}

const rest_route rest__routes_info[] = {
    {"GET", "/", info},
    {"GET", "/ping", ping},
    {NULL, NULL, NULL},
};
