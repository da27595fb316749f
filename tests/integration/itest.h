/* What the integration test programs written in C share: a table of named
 * scenarios, run one after the other with one "ok - NAME: DESC (N ms)" or
 * "not ok - ..." line each, "# ..." diagnostics, a monotonic clock in
 * milliseconds and loopback sockets. Header only (static functions): each
 * program is one file linked to the library. */
#ifndef SPOA_ITEST_H
#define SPOA_ITEST_H

#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct scenario {
    const char *name;
    const char *desc;
    void (*fn)(void);
};

/* The number of entries of a scenario table. */
#define SCENARIOS_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* now_ms: CLOCK_MONOTONIC in milliseconds. */
static inline uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* note: prints "# " and the formatted line on stdout. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

/* A loopback TCP socket bound to a free port but not listening: connecting
 * to it is refused until listen() is called on it. */
static inline int bound_socket(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd == -1)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) == -1) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* listen_loopback: a non-blocking loopback listener on a free port, stored
 * in *port; -1 when it cannot be had. */
static inline int listen_loopback(uint16_t *port)
{
    int fd = bound_socket(port);
    if (fd != -1 && listen(fd, 8) == -1) {
        close(fd);
        return -1;
    }
    return fd;
}

/* connect_loopback: a blocking connection to 127.0.0.1:<port> whose reads
 * and writes give up after <timeout_s> seconds; -1 when it cannot. */
static inline int connect_loopback(uint16_t port, int timeout_s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1)
        return -1;
    struct timeval tv = {.tv_sec = timeout_s};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
        close(fd);
        return -1;
    }
    return fd;
}

/* scenarios_listed: with the single argument --list, prints the names of
 * the <n> scenarios of <sc>, one a line, and returns true; false otherwise. */
static inline bool scenarios_listed(const struct scenario *sc, size_t n, int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[1], "--list") != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        printf("%s\n", sc[i].name);
    return true;
}

/* scenarios_port: argv[1] as a TCP port; 0 when it is missing or not one. */
static inline uint16_t scenarios_port(int argc, char **argv)
{
    long port = argc >= 2 ? strtol(argv[1], NULL, 10) : 0;
    return port > 0 && port <= 65535 ? (uint16_t)port : 0;
}

/* scenarios_run: runs the scenarios of <sc> (<n>) named in <names>
 * (<nnames>; all when 0) in table order. Each starts with *failures at 0
 * and fails when it left it above 0. Returns the exit status: 0 when all
 * passed, 1 when one failed, 2 when <names> selected none. */
static inline int scenarios_run(const struct scenario *sc, size_t n, char **names, int nnames, int *failures)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int run = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        bool pick = nnames == 0;
        for (int k = 0; k < nnames && !pick; k++)
            pick = strcmp(names[k], sc[i].name) == 0;
        if (!pick)
            continue;
        *failures = 0;
        uint64_t t0 = now_ms();
        sc[i].fn();
        run++;
        printf("%s - %s: %s (%" PRIu64 " ms)\n", *failures ? "not ok" : "ok", sc[i].name, sc[i].desc,
               now_ms() - t0);
        failed += *failures != 0;
    }
    if (run == 0) {
        fprintf(stderr, "no such scenario\n");
        return 2;
    }
    return failed ? 1 : 0;
}

#endif
