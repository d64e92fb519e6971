/* Unit tests for the query shell's result receiver (cli/recv.c): it must take what a rest sink
 * sends, one request or several pipelined on a kept-alive connection, with a Content-Length or
 * chunked, split across reads anywhere, answer each with 200, and drop a peer that misbehaves
 * without losing the others. */
#include "cli/recv.h"
#include "engine/mem.h"
#include "tests/unit/test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_to(const char *url)
{
    int port = 0;
    CU_ASSERT_EQUAL_FATAL(sscanf(url, "http://127.0.0.1:%d/", &port), 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_str(int fd, const char *s)
{
    CU_ASSERT_EQUAL((size_t)write(fd, s, strlen(s)), strlen(s));
}

/* Waits (up to ~5 s) for the next body. */
static int next_body(cli_recv *r, ek_buf *body)
{
    for (int i = 0; i < 50; i++) {
        int rc = cli__recv_wait(r, 100, -1, body);
        if (rc != 0) return rc;
    }
    return 0;
}

static void test_pipelined_and_chunked(void)
{
    cli_recv *r = NULL;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(cli__recv_open("127.0.0.1", &r, url, sizeof url), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(url, "http://127.0.0.1:"));
    int fd = connect_to(url);
    send_str(fd, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n[{\"a\":1}]"
                 "POST / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\n4\r\n[{\"b\r\n5\r\n\":2}]\r\n0\r\n\r\n"
                 "POST / HTTP/1.1\r\nContent-Le");
    ek_buf body = EK_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(next_body(r, &body), 1);
    CU_ASSERT_STRING_EQUAL(body.data, "[{\"a\":1}]");
    CU_ASSERT_EQUAL_FATAL(next_body(r, &body), 1);
    CU_ASSERT_STRING_EQUAL(body.data, "[{\"b\":2}]");
    /* The third request arrives in pieces. */
    CU_ASSERT_EQUAL(cli__recv_wait(r, 50, -1, &body), 0);
    send_str(fd, "ngth: 2\r\n\r\n[");
    CU_ASSERT_EQUAL(cli__recv_wait(r, 50, -1, &body), 0);
    send_str(fd, "]");
    CU_ASSERT_EQUAL_FATAL(next_body(r, &body), 1);
    CU_ASSERT_STRING_EQUAL(body.data, "[]");
    char reply[512] = {0};
    ssize_t n = read(fd, reply, sizeof reply - 1);
    CU_ASSERT_TRUE(n > 0);
    CU_ASSERT_EQUAL(strncmp(reply, "HTTP/1.1 200 OK\r\n", 17), 0);
    close(fd);
    ek_buf_free(&body);
    cli__recv_close(r);
}

static void test_bad_peer_is_dropped(void)
{
    cli_recv *r = NULL;
    char url[128];
    CU_ASSERT_EQUAL_FATAL(cli__recv_open("127.0.0.1", &r, url, sizeof url), 0);
    int bad = connect_to(url);
    send_str(bad, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    int good = connect_to(url);
    send_str(good, "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok");
    ek_buf body = EK_BUF_INIT;
    CU_ASSERT_EQUAL_FATAL(next_body(r, &body), 1);
    CU_ASSERT_STRING_EQUAL(body.data, "ok");
    char c;
    CU_ASSERT_EQUAL(read(bad, &c, 1), 0); /* closed by the receiver */
    close(bad);
    close(good);
    ek_buf_free(&body);
    cli__recv_close(r);
}

void ek_register_tests(void)
{
    static const ek_test_case cases[] = {
        {"pipelined, chunked and split requests", test_pipelined_and_chunked},
        {"a misbehaving peer is dropped", test_bad_peer_is_dropped},
        {NULL, NULL},
    };
    ek_add_suite("cli_recv", cases);
}
