/* Socket set-up helpers: address parsing and listening sockets. */
#ifndef SPOA_NET_H
#define SPOA_NET_H

#include <stddef.h>
#include <sys/socket.h>

/* net_split_host_port: splits "host:port", "[v6]:port" or ":port" into
 * <host> (brackets removed; "" for any) and <port>. Returns 0, or -1 with a
 * message in <err>. */
int net_split_host_port(const char *addr, char *host, size_t host_len, char *port, size_t port_len, char *err,
                        size_t err_len);

/* net_listen_tcp: a non-blocking, close-on-exec TCP socket bound to <addr>
 * ("host:port") and listening with <backlog>. Returns the fd, or -1 with a
 * message naming the address in <err>. */
int net_listen_tcp(const char *addr, int backlog, char *err, size_t err_len);

/* net_peer_name: writes "ip:port" of the socket's peer into <dst>. */
void net_peer_name(int fd, char *dst, size_t len);

/* net_local_port: the port a listening socket is bound to, or -1. */
int net_local_port(int fd);

#endif
