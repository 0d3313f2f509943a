/* An HTTP server on picohttpparser and epoll that talks to itself over loopback:
   every round a client socket connects to the listening socket on 127.0.0.1, sends a
   request, and one epoll loop serves both ends (accept, parse the request with
   phr_parse_request, answer with handle_request; read the response to EOF and parse
   it with phr_parse_response). On SIGUSR1 the seed's handler (corpus/common) loads
   ./patch.so and patches handle_request. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handler.h"
#include "hotfix.h"

static const char *const users[] = { "alice", "bob", "carol" };

struct conn {
    int fd;
    char buf[4096];
    size_t len;
};

static int listen_on_loopback(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    socklen_t addr_len = sizeof *addr;

    if (fd < 0) {
        perror("socket");
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr->sin_port = 0; /* the kernel picks a free port */
    if (bind(fd, (struct sockaddr *)addr, sizeof *addr) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)addr, &addr_len) != 0) {
        perror("bind/listen");
        close(fd);
        return -1;
    }
    return fd;
}

/* The server side of one connection: read until the request parses, answer, close. */
static int serve_readable(struct conn *c)
{
    const char *method, *path;
    size_t method_len, path_len, num_headers = 16;
    struct phr_header headers[16];
    int minor_version;
    ssize_t n;

    while ((n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len)) > 0)
        c->len += (size_t)n;
    int parsed = phr_parse_request(c->buf, c->len, &method, &method_len, &path, &path_len, &minor_version, headers,
                                   &num_headers, 0);
    if (parsed == -2 && n < 0 && errno == EAGAIN)
        return 0; /* incomplete: wait for more */
    char response[1024];
    size_t response_len = parsed > 0 ? handle_request(method, method_len, path, path_len, headers, num_headers,
                                                      response, sizeof response)
                                     : (size_t)snprintf(response, sizeof response,
                                                        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    if (write(c->fd, response, response_len) != (ssize_t)response_len)
        perror("write");
    return 1;
}

static void print_response(int round, const char *buf, size_t len)
{
    int minor_version, status;
    const char *msg;
    size_t msg_len, num_headers = 16;
    struct phr_header headers[16];
    int parsed = phr_parse_response(buf, len, &minor_version, &status, &msg, &msg_len, headers, &num_headers, 0);
    if (parsed < 0) {
        printf("round %d: unparsable response (%d)\n", round, parsed);
        return;
    }
    size_t body_len = len - (size_t)parsed;
    for (size_t i = 0; i != num_headers; i++)
        if (headers[i].name_len == 14 && strncasecmp(headers[i].name, "content-length", 14) == 0)
            sscanf(headers[i].value, "%zu", &body_len);
    printf("round %d: %d %.*s '%.*s'\n", round, status, (int)msg_len, msg, (int)body_len, buf + parsed);
}

static void exchange(int epfd, int listen_fd, const struct sockaddr_in *addr, int round)
{
    struct conn server = { .fd = -1 }, client = { .fd = -1 };
    struct epoll_event ev, events[4];
    int done = 0;

    client.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client.fd < 0 || connect(client.fd, (const struct sockaddr *)addr, sizeof *addr) != 0) {
        perror("connect");
        goto out;
    }
    int request_len = snprintf(client.buf, sizeof client.buf,
                               "GET /greet?round=%d HTTP/1.1\r\nHost: 127.0.0.1\r\nX-User: %s\r\nConnection: close\r\n\r\n",
                               round, users[round % 3]);
    if (write(client.fd, client.buf, (size_t)request_len) != request_len) {
        perror("write request");
        goto out;
    }
    client.len = 0;
    ev.events = EPOLLIN;
    ev.data.ptr = &client;
    epoll_ctl(epfd, EPOLL_CTL_ADD, client.fd, &ev);
    while (!done) {
        int n = epoll_wait(epfd, events, 4, 1000);
        if (n <= 0) {
            printf("round %d: %s\n", round, n == 0 ? "timed out" : "epoll_wait failed");
            break;
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL) { /* the listening socket */
                server.fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (server.fd < 0)
                    continue;
                server.len = 0;
                ev.events = EPOLLIN;
                ev.data.ptr = &server;
                epoll_ctl(epfd, EPOLL_CTL_ADD, server.fd, &ev);
            } else if (events[i].data.ptr == &server) {
                if (serve_readable(&server)) {
                    epoll_ctl(epfd, EPOLL_CTL_DEL, server.fd, NULL);
                    close(server.fd);
                    server.fd = -1;
                }
            } else {
                ssize_t got = read(client.fd, client.buf + client.len, sizeof client.buf - client.len);
                if (got > 0) {
                    client.len += (size_t)got;
                } else {
                    print_response(round, client.buf, client.len);
                    done = 1;
                }
            }
        }
    }
out:
    if (client.fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, client.fd, NULL);
        close(client.fd);
    }
    if (server.fd >= 0)
        close(server.fd);
}

int main(int argc, char **argv)
{
    int iterations = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);
    struct sockaddr_in addr;

    scenario_init_stdout();
    hotfix_install_handler();
    int listen_fd = listen_on_loopback(&addr);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (listen_fd < 0 || epfd < 0)
        return 1;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev);
    puts("listening on 127.0.0.1");
    for (int i = 0; i < iterations; i++) {
        if (i == raise_at)
            raise(SIGUSR1);
        exchange(epfd, listen_fd, &addr, i);
        usleep(10000);
    }
    close(epfd);
    close(listen_fd);
    return 0;
}
