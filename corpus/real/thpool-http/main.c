/* An HTTP server on C-Thread-Pool that talks to itself over loopback: every round main, as
   the client, connects to its own listening socket on 127.0.0.1 and sends a quote request;
   as the server it accepts the connection and hands it to the pool (four workers, named
   thpool-0..3 by the pool with prctl), whose worker reads the request, calls handle_request
   and writes the response; main blocks in read() until the worker has answered. The pool
   installs its own SIGUSR1 handler (thread_hold, its pause) in every worker, so the seed's
   hot-fix handler (corpus/common) is installed after thpool_init: SIGUSR1 patches. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "handler.h"
#include "hotfix.h"
#include "upstream/thpool.h"

static int listen_on_loopback(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    socklen_t addr_len = sizeof *addr;

    if (fd < 0) {
        perror("socket");
        return -1;
    }
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

/* A pool job: serve one connection (read the request head, answer, close). */
static void serve_connection(void *arg)
{
    int fd = (int)(long)arg;
    char request[1024], response[512];
    size_t len = 0;
    ssize_t n;

    while (len < sizeof request - 1 && (n = read(fd, request + len, sizeof request - 1 - len)) > 0) {
        len += (size_t)n;
        request[len] = '\0';
        if (strstr(request, "\r\n\r\n"))
            break;
    }
    request[len] = '\0';
    size_t out = handle_request(request, response, sizeof response);
    if (write(fd, response, out) != (ssize_t)out)
        perror("write");
    close(fd);
}

int main(int argc, char **argv)
{
    int rounds = scenario_iterations(argc, argv);
    int raise_at = scenario_raise_at(argc, argv);
    struct sockaddr_in addr;

    scenario_init_stdout();
    int listener = listen_on_loopback(&addr);
    if (listener < 0)
        return 1;
    printf("listening on 127.0.0.1 with a pool of 4 workers\n");
    threadpool pool = thpool_init(4);
    hotfix_install_handler();
    for (int round = 0; round < rounds; round++) {
        if (round == raise_at)
            raise(SIGUSR1);
        int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (client < 0 || connect(client, (struct sockaddr *)&addr, sizeof addr) != 0) {
            perror("connect");
            return 1;
        }
        char request[128];
        int request_len = snprintf(request, sizeof request, "GET /quote?item=%d&qty=3 HTTP/1.0\r\nHost: localhost\r\n\r\n", round % 4);
        if (write(client, request, (size_t)request_len) != request_len) {
            perror("write");
            return 1;
        }
        int conn = accept(listener, NULL, NULL);
        if (conn < 0) {
            perror("accept");
            return 1;
        }
        thpool_add_work(pool, serve_connection, (void *)(long)conn);
        char response[512];
        size_t len = 0;
        ssize_t n;
        while (len < sizeof response - 1 && (n = read(client, response + len, sizeof response - 1 - len)) > 0)
            len += (size_t)n;
        response[len] = '\0';
        close(client);
        const char *body = strstr(response, "\r\n\r\n");
        const char *eol = strstr(response, "\r\n");
        printf("round %d: %.*s '%s'\n", round, eol ? (int)(eol - response) : 0, response, body ? body + 4 : "");
        usleep(20000);
    }
    thpool_wait(pool);
    return 0;
}
