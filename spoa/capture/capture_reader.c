/* See capture_reader.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture_reader.h"

void capture_reader_init_bytes(struct capture_reader *rd, const uint8_t *data, size_t len)
{
    memset(rd, 0, sizeof(*rd));
    rd->data = data;
    rd->len = len;
    msgpack_unpacked_init(&rd->unpacked);
}

int capture_reader_open(struct capture_reader *rd, const char *path, char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == -1) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    void *map = NULL;
    size_t len = (size_t)st.st_size;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            snprintf(err, err_len, "%s: mmap: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
    }
    close(fd);
    capture_reader_init_bytes(rd, map, len);
    rd->_map = map;
    rd->_map_len = len;
    return 0;
}

enum capture_status capture_reader_next(struct capture_reader *rd, struct capture_record *r)
{
    size_t at = rd->off;
    enum capture_status s = capture_record_decode(rd->data, rd->len, &rd->off, &rd->unpacked, r, rd->why);
    if (s == CAPTURE_OK) {
        rd->rec_offset = at;
        rd->records++;
    }
    return s;
}

size_t capture_reader_offset(const struct capture_reader *rd)
{
    return rd->off;
}

void capture_reader_destroy(struct capture_reader *rd)
{
    msgpack_unpacked_destroy(&rd->unpacked);
    if (rd->_map)
        munmap(rd->_map, rd->_map_len);
    rd->_map = NULL;
    rd->data = NULL;
    rd->len = 0;
}
