/* libFuzzer target: the JSON path pattern parser (json_path.h).
 *
 * Input layout: <pattern bytes> [0x00 <concrete path>]. The pattern is the
 * bytes up to the first NUL (or all of them). The bytes after it describe a
 * concrete path: each byte b >= 0x80 is array index (b & 0x7f), each other
 * byte a one-byte key.
 *
 * Checked with abort():
 * - a refusal writes a message and leaves nothing to free; an accepted
 *   pattern starts with '$', has at most JSON_PATH_MAX_SEGS segments, keys
 *   inside its key block, and never ends in "..";
 * - a pattern made only of keys, indices and wildcards matches the concrete
 *   path it describes (wildcards replaced by the path's own segment), and
 *   formatting that concrete path gives text that parses again and matches it;
 * - matching never reads past the concrete path (ASan) and is the same
 *   whichever way it is called twice, and stepping down the concrete path
 *   one level at a time (json_path_step) ends in the same answer. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_path.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    char *pattern = malloc(plen + 1);
    CHECK(pattern != NULL);
    memcpy(pattern, data, plen);
    pattern[plen] = '\0';

    struct json_path p;
    char err[160] = "";
    if (!json_path_parse(pattern, &p, err, sizeof(err))) {
        CHECK(err[0] != '\0');
        CHECK(p.keys == NULL && p.n == 0);
        free(pattern);
        return 0;
    }
    CHECK(pattern[0] == '$');
    CHECK(p.n <= JSON_PATH_MAX_SEGS);
    CHECK(p.n == 0 || p.segs[p.n - 1].kind != JSEG_DESCEND);
    bool concrete_only = true;
    struct json_seg own[JSON_PATH_MAX_SEGS];
    for (size_t i = 0; i < p.n; i++) {
        const struct json_seg *s = &p.segs[i];
        if (s->kind == JSEG_KEY)
            CHECK(s->key >= p.keys && s->key + s->key_len <= p.keys + plen);
        if (s->kind == JSEG_DESCEND)
            concrete_only = false;
        own[i] = s->kind == JSEG_ANY ? (struct json_seg){.kind = JSEG_INDEX, .index = 7} : *s;
    }
    if (concrete_only) {
        CHECK(json_path_match(&p, own, p.n));
        char text[JSON_PATH_MAX_LEN * 4 + 8];
        size_t n = json_path_format(own, p.n, false, text, sizeof(text));
        CHECK(n == strlen(text));
        struct json_path again;
        char err2[160];
        if (n <= JSON_PATH_MAX_LEN && !strstr(text, "?")) {
            CHECK(json_path_parse(text, &again, err2, sizeof(err2)));
            CHECK(json_path_match(&again, own, p.n));
            json_path_free(&again);
        }
    }
    if (nul) {
        size_t clen = size - plen - 1;
        struct json_seg *segs = malloc((clen ? clen : 1) * sizeof(*segs));
        CHECK(segs != NULL);
        for (size_t i = 0; i < clen; i++) {
            const uint8_t *b = &nul[1 + i];
            segs[i] = *b & 0x80 ? (struct json_seg){.kind = JSEG_INDEX, .index = *b & 0x7fu}
                                : (struct json_seg){.kind = JSEG_KEY, .key = (const char *)b, .key_len = 1};
        }
        bool a = json_path_match(&p, segs, clen);
        CHECK(a == json_path_match(&p, segs, clen));
        /* Stepping level by level agrees with matching the whole path. */
        json_path_state st = json_path_start(&p);
        for (size_t i = 0; i < clen; i++)
            st = json_path_step(&p, st, &segs[i]);
        CHECK(json_path_accepts(&p, st) == a);
        free(segs);
    }
    json_path_free(&p);
    free(pattern);
    return 0;
}
