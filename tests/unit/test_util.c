#include "test_util.h"

#include <arpa/inet.h>
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mirror/mirror_args.h"
#include "mirror/target_addr.h"
#include "spop/spop_frame.h"
#include "spop/spop_proto.h"

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

void notify_mirror_args(const uint8_t *frame, size_t len, struct mirror_args *a)
{
    struct spop_frame f;
    ck_assert_int_eq(spop_frame_decode(frame, len, 16380, &f), (ssize_t)len);
    ck_assert_uint_eq(f.type, SPOP_FRM_T_HAPROXY_NOTIFY);
    size_t off = 0;
    for (size_t step = 0; off < f.payload_len && step < 16; step++) {
        struct spop_message msg;
        ssize_t n = spop_message_next(f.payload + off, f.payload_len - off, &msg);
        ck_assert_int_gt(n, 0);
        off += (size_t)n;
        if (!spop_bytes_eq(msg.name, MIRROR_MESSAGE_NAME))
            continue;
        const char *bad = NULL;
        enum mirror_args_status st = mirror_args_extract(&msg, a, &bad);
        ck_assert_msg(st == MIRROR_ARGS_OK, "mirror args: %s (%s)", mirror_args_status_str(st),
                      bad ? bad : "");
        return;
    }
    ck_abort_msg("no mirror message");
}

struct config_mirror plain_mirror(void)
{
    struct config_mirror m;
    memset(&m, 0, sizeof(m));
    m.url = "http://mirror:8080";
    m.scheme = "http";
    m.host = "mirror";
    m.port = 8080;
    m.base_path = "";
    m.percent_millionths = 1000000;
    m.authority = AUTHORITY_SHADOW;
    return m;
}

uint8_t *load_notify_args(const char *dir, const char *file, size_t *len, struct mirror_args *a)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    uint8_t *raw = NULL;
    long n = read_hex_file(path, &raw);
    ck_assert_msg(n > 0, "cannot read %s", path);
    uint8_t *frame = guarded_copy(raw, (size_t)n);
    free(raw);
    *len = (size_t)n;
    notify_mirror_args(frame, *len, a);
    return frame;
}
