#include "test_util.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mirror/target_addr.h"

static int hex_nibble(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

long hex_decode(const char *hex, uint8_t **out)
{
    size_t n = strlen(hex);
    uint8_t *buf = malloc(n / 2 + 1);
    long len = 0;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)hex[i]))
            continue;
        int v = hex_nibble((unsigned char)hex[i]);
        if (v < 0) {
            free(buf);
            return -1;
        }
        if (hi < 0) {
            hi = v;
        } else {
            buf[len++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    return len;
}

long read_hex_file(const char *path, uint8_t **out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *text = NULL;
    size_t cap = 0, len = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            text = realloc(text, cap);
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!text)
        return -1;
    text[len] = '\0';
    long r = hex_decode(text, out);
    free(text);
    return r;
}

uint8_t *guarded_copy(const uint8_t *p, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = (len + page - 1) / page;
    if (data_pages == 0)
        data_pages = 1;
    size_t total = (data_pages + 1) * page;
    uint8_t *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        abort();
    mprotect(base + data_pages * page, page, PROT_NONE);
    uint8_t *dst = base + data_pages * page - len;
    if (len)
        memcpy(dst, p, len);
    return dst;
}

void guarded_free(uint8_t *p, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = (len + page - 1) / page;
    if (data_pages == 0)
        data_pages = 1;
    uint8_t *base = p + len - data_pages * page;
    munmap(base, (data_pages + 1) * page);
}

struct sockaddr_in ipv4_sockaddr(const char *ip, uint16_t port)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
    ck_assert_int_eq(inet_pton(AF_INET, ip, &in.sin_addr), 1);
    return in;
}

void store_ipv4s(struct target_addr *t, const char *const *ips, int n, uint16_t port)
{
    struct target_addr_set set = {.count = n};
    ck_assert(n > 0 && n <= TARGET_ADDR_MAX);
    for (int i = 0; i < n; i++) {
        struct sockaddr_in in = ipv4_sockaddr(ips[i], port);
        memcpy(&set.addrs[i], &in, sizeof(in));
        set.lens[i] = sizeof(in);
    }
    target_addr_store(t, &set);
}
