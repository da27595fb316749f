#include "mirror/notify_log.h"

#include <string.h>

/* Appends the comma-separated header names of <hdrs> to <dst>. */
static void header_names(char *dst, size_t cap, struct spop_bytes hdrs)
{
    size_t off = 0, o = 0;
    dst[0] = '\0';
    for (;;) {
        struct spop_bytes name, value;
        int n = hdrs_bin_next(hdrs.ptr + off, hdrs.len - off, &name, &value);
        if (n <= 0)
            return;
        off += (size_t)n;
        if (o + name.len + 2 >= cap)
            return;
        if (o)
            dst[o++] = ',';
        memcpy(dst + o, name.ptr, name.len);
        o += name.len;
        dst[o] = '\0';
    }
}

void mirror_args_log(const struct logger *log, const struct spop_notify *n, const struct mirror_args *a)
{
    if (!log_enabled(log, LOG_LVL_DEBUG))
        return;
    char method[48], path[300], host[300], ver[16], body[160], names[512], quoted_names[600];
    header_names(names, sizeof(names), a->hdrs);
    log_event(log, LOG_LVL_DEBUG, "notify",
              "sid=%llu fid=%llu method=%s path=%s host=%s ver=%s headers=%d header_names=%s body_bytes=%zu "
              "body_size=%llu body=%s",
              (unsigned long long)n->stream_id, (unsigned long long)n->frame_id,
              log_quote(method, sizeof(method), a->method.ptr, a->method.len, 32),
              log_quote(path, sizeof(path), a->path.ptr, a->path.len, 256),
              log_quote(host, sizeof(host), a->host.ptr, a->host.len, 256),
              log_quote(ver, sizeof(ver), a->ver.ptr, a->ver.len, 8), hdrs_bin_count(a->hdrs),
              log_quote(quoted_names, sizeof(quoted_names), (const uint8_t *)names, strlen(names), 500),
              a->body.len, (unsigned long long)a->body_size,
              log_quote(body, sizeof(body), a->body.ptr, a->body.len, 32));
}
