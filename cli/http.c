/* The REST client of `kuiper`: one libcurl easy handle per session, reused so that a command that
 * makes several requests (the query shell) keeps one connection. Every request goes to
 * http://host:port<path>; bodies are JSON. A request that gets any HTTP answer succeeds here, and
 * the caller decides what the status means; only "no answer at all" is an error, which commands
 * report with eKuiper's "Failed to connect the server" line. */
#include "cli/cli_int.h"
#include "engine/mem.h"

#include <curl/curl.h>
#include <string.h>

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    ek_buf_append(arg, p, size * n);
    return size * n;
}

static CURL *handle(ek_cli *c)
{
    if (!c->curl) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        c->curl = curl_easy_init();
    }
    return c->curl;
}

int cli__http(ek_cli *c, const char *method, const char *path, const char *body, cli_resp *resp)
{
    CURL *h = handle(c);
    memset(resp, 0, sizeof *resp);
    if (!h) return -1;

    ek_buf url = EK_BUF_INIT;
    /* An IPv6 literal needs brackets in a URL. */
    if (strchr(c->host, ':'))
        ek_buf_printf(&url, "http://[%s]:%d%s", c->host, c->port, path);
    else
        ek_buf_printf(&url, "http://%s:%d%s", c->host, c->port, path);

    struct curl_slist *hdrs = NULL;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms > 0 ? c->timeout_ms : 60000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "kuiper-cli");
    if (body) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    }
    /* Without this libcurl sends "Expect: 100-continue" for large bodies and waits for it. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);

    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    ek_buf_free(&url);
    if (!resp->body.data) ek_buf_puts(&resp->body, "");
    if (rc != CURLE_OK) {
        resp->status = 0;
        return -1;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    char *ip = NULL;
    if (curl_easy_getinfo(h, CURLINFO_LOCAL_IP, &ip) == CURLE_OK && ip)
        snprintf(resp->local_ip, sizeof resp->local_ip, "%s", ip);
    return 0;
}

void cli__resp_free(cli_resp *r)
{
    if (r) ek_buf_free(&r->body);
}

void cli__http_close(ek_cli *c)
{
    if (c->curl) {
        curl_easy_cleanup(c->curl);
        c->curl = NULL;
        curl_global_cleanup();
    }
}

void cli__path_escape(ek_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char ch = *p;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                     ch == '-' || ch == '_' || ch == '.' || ch == '~';
        if (plain) {
            ek_buf_putc(b, (char)ch);
        } else {
            ek_buf_putc(b, '%');
            ek_buf_putc(b, hex[ch >> 4]);
            ek_buf_putc(b, hex[ch & 15]);
        }
    }
}
