#include "core/json_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

static bool name_byte(unsigned char ch)
{
    return ch > 0x20 && ch != 0x7f && ch != '.' && ch != '[' && ch != ']' && ch != '\'' && ch != '"' &&
           ch != '*';
}

/* Parses a bracket segment at s[*i] == '['; appends to *p, keys into kb. */
static bool parse_bracket(const char *s, size_t *i, struct json_seg *seg, char *kb, size_t *ko, char *err,
                          size_t errlen)
{
    size_t j = *i + 1;
    if (s[j] == '*') {
        if (s[j + 1] != ']') {
            snprintf(err, errlen, "expected ']' after '[*' at byte %zu", j + 1);
            return false;
        }
        seg->kind = JSEG_ANY;
        *i = j + 2;
        return true;
    }
    if (s[j] >= '0' && s[j] <= '9') {
        uint64_t v = 0;
        while (s[j] >= '0' && s[j] <= '9') {
            v = v * 10 + (uint64_t)(s[j] - '0');
            if (v > JSON_PATH_MAX_INDEX) {
                snprintf(err, errlen, "array index larger than %u", JSON_PATH_MAX_INDEX);
                return false;
            }
            j++;
        }
        if (s[j] != ']') {
            snprintf(err, errlen, "expected ']' after the index at byte %zu", j);
            return false;
        }
        seg->kind = JSEG_INDEX;
        seg->index = (uint32_t)v;
        *i = j + 1;
        return true;
    }
    if (s[j] == '\'') {
        j++;
        seg->kind = JSEG_KEY;
        seg->key = kb + *ko;
        size_t start = *ko;
        for (;;) {
            unsigned char ch = (unsigned char)s[j];
            if (ch == '\0') {
                snprintf(err, errlen, "unterminated quoted name");
                return false;
            }
            if (ch < 0x20 || ch == 0x7f) {
                snprintf(err, errlen, "control byte in a quoted name at byte %zu", j);
                return false;
            }
            if (ch == '\'')
                break;
            if (ch == '\\') {
                if (s[j + 1] != '\'' && s[j + 1] != '\\') {
                    snprintf(err, errlen, "only \\' and \\\\ may be escaped (byte %zu)", j);
                    return false;
                }
                j++;
                ch = (unsigned char)s[j];
            }
            kb[(*ko)++] = (char)ch;
            j++;
        }
        seg->key_len = *ko - start;
        if (s[j + 1] != ']') {
            snprintf(err, errlen, "expected ']' after the quoted name at byte %zu", j + 1);
            return false;
        }
        *i = j + 2;
        return true;
    }
    snprintf(err, errlen, "expected a number, '*' or a quoted name after '[' at byte %zu", j);
    return false;
}

bool json_path_parse(const char *s, struct json_path *out, char *err, size_t errlen)
{
    size_t len = strlen(s);
    memset(out, 0, sizeof(*out));
    if (len > JSON_PATH_MAX_LEN) {
        snprintf(err, errlen, "longer than %d bytes", JSON_PATH_MAX_LEN);
        return false;
    }
    if (s[0] != '$') {
        snprintf(err, errlen, "must start with '$' (the document's root)");
        return false;
    }
    char *kb = xmalloc(len + 1);
    size_t ko = 0, i = 1, n = 0;
    bool ok = true;
    while (ok && s[i]) {
        if (n >= JSON_PATH_MAX_SEGS) {
            snprintf(err, errlen, "more than %d segments", JSON_PATH_MAX_SEGS);
            ok = false;
            break;
        }
        struct json_seg *seg = &out->segs[n];
        memset(seg, 0, sizeof(*seg));
        if (s[i] == '.' && s[i + 1] == '.') {
            seg->kind = JSEG_DESCEND;
            n++;
            i += 2;
            if (s[i] == '[')
                continue;
            if (n >= JSON_PATH_MAX_SEGS) {
                snprintf(err, errlen, "more than %d segments", JSON_PATH_MAX_SEGS);
                ok = false;
                break;
            }
            if (s[i] == '\0' || s[i] == '.') {
                snprintf(err, errlen, "'..' must be followed by a name, '*' or '['");
                ok = false;
                break;
            }
            i--; /* read what follows as a "." segment */
            seg = &out->segs[n];
            memset(seg, 0, sizeof(*seg));
        }
        if (s[i] == '.') {
            i++;
            if (s[i] == '*') {
                seg->kind = JSEG_ANY;
                i++;
            } else if (name_byte((unsigned char)s[i])) {
                seg->kind = JSEG_KEY;
                seg->key = kb + ko;
                size_t start = ko;
                while (name_byte((unsigned char)s[i]))
                    kb[ko++] = s[i++];
                seg->key_len = ko - start;
            } else {
                snprintf(err, errlen,
                         "expected a name or '*' after '.' at byte %zu (quote other names: ['...'])", i);
                ok = false;
                break;
            }
        } else if (s[i] == '[') {
            ok = parse_bracket(s, &i, seg, kb, &ko, err, errlen);
            if (!ok)
                break;
        } else {
            snprintf(err, errlen, "unexpected byte at %zu: expected '.' or '['", i);
            ok = false;
            break;
        }
        n++;
    }
    if (ok && n > 0 && out->segs[n - 1].kind == JSEG_DESCEND) {
        snprintf(err, errlen, "'..' must be followed by a name, '*' or '['");
        ok = false;
    }
    if (!ok) {
        free(kb);
        memset(out, 0, sizeof(*out));
        return false;
    }
    out->n = n;
    out->keys = kb;
    return true;
}

void json_path_free(struct json_path *p)
{
    free(p->keys);
    memset(p, 0, sizeof(*p));
}

static bool seg_match(const struct json_seg *pat, const struct json_seg *c)
{
    switch (pat->kind) {
    case JSEG_ANY:
        return true;
    case JSEG_INDEX:
        return c->kind == JSEG_INDEX && c->index == pat->index;
    case JSEG_KEY:
        return c->kind == JSEG_KEY && c->key_len == pat->key_len && memcmp(c->key, pat->key, c->key_len) == 0;
    case JSEG_DESCEND:
        break;
    }
    return false;
}

bool json_path_match(const struct json_path *pat, const struct json_seg *segs, size_t n)
{
    /* prev[j]: the pattern's first i - 1 segments match the first j
     * concrete ones; cur[j] the same for i segments. Two rows on the stack
     * for paths of up to 256 levels, on the heap beyond. */
    size_t m = pat->n;
    bool stack_prev[257], stack_cur[257];
    bool *prev = stack_prev, *cur = stack_cur;
    bool *heap = NULL;
    if (n + 1 > 257) {
        heap = xmalloc(2 * (n + 1) * sizeof(bool));
        prev = heap;
        cur = heap + n + 1;
    }
    prev[0] = true;
    for (size_t j = 1; j <= n; j++)
        prev[j] = false;
    for (size_t i = 1; i <= m; i++) {
        const struct json_seg *p = &pat->segs[i - 1];
        if (p->kind == JSEG_DESCEND) {
            /* zero or more levels: cur[j] = prev[j] || cur[j-1] */
            cur[0] = prev[0];
            for (size_t j = 1; j <= n; j++)
                cur[j] = prev[j] || cur[j - 1];
        } else {
            cur[0] = false;
            for (size_t j = 1; j <= n; j++)
                cur[j] = prev[j - 1] && seg_match(p, &segs[j - 1]);
        }
        bool *t = prev;
        prev = cur;
        cur = t;
    }
    bool r = prev[n];
    free(heap);
    return r;
}

/* Bit i of a state: the first i pattern segments match the path so far;
 * JSON_PATH_MAX_SEGS + 1 bits fit in the 64 of a state. A descent segment
 * matches zero levels too, so a prefix that ends just before one implies
 * the prefix that includes it (the closure below). */
static json_path_state close_descents(const struct json_path *pat, json_path_state st)
{
    for (size_t i = 0; i < pat->n; i++) {
        if (pat->segs[i].kind == JSEG_DESCEND && (st >> i & 1))
            st |= (json_path_state)1 << (i + 1);
    }
    return st;
}

json_path_state json_path_start(const struct json_path *pat)
{
    return close_descents(pat, 1);
}

json_path_state json_path_step(const struct json_path *pat, json_path_state st, const struct json_seg *seg)
{
    json_path_state next = 0;
    for (size_t i = 0; i < pat->n; i++) {
        if (pat->segs[i].kind == JSEG_DESCEND) {
            /* a prefix that ends in a descent takes one more level */
            next |= st & (json_path_state)1 << (i + 1);
        } else if ((st >> i & 1) && seg_match(&pat->segs[i], seg)) {
            next |= (json_path_state)1 << (i + 1);
        }
    }
    return close_descents(pat, next);
}

bool json_path_accepts(const struct json_path *pat, json_path_state st)
{
    return st >> pat->n & 1;
}

/* Appends <len> bytes to out (cap) at *o, keeping room for "..." and NUL;
 * false once it no longer fits. */
static bool put(char *out, size_t cap, size_t *o, const char *s, size_t len)
{
    if (*o + len + 4 > cap) {
        size_t room = cap > *o + 4 ? cap - *o - 4 : 0;
        memcpy(out + *o, s, room);
        *o += room;
        return false;
    }
    memcpy(out + *o, s, len);
    *o += len;
    return true;
}

static bool plain_name(const char *k, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!name_byte((unsigned char)k[i]))
            return false;
    }
    return true;
}

size_t json_path_format(const struct json_seg *segs, size_t n, bool generalize, char *out, size_t cap)
{
    size_t o = 0;
    bool ok = put(out, cap, &o, "$", 1);
    for (size_t i = 0; ok && i < n; i++) {
        const struct json_seg *s = &segs[i];
        char num[16];
        if (s->kind == JSEG_INDEX) {
            if (generalize)
                ok = put(out, cap, &o, "[*]", 3);
            else
                ok = put(out, cap, &o, num, (size_t)snprintf(num, sizeof(num), "[%u]", (unsigned)s->index));
        } else if (s->kind == JSEG_KEY && plain_name(s->key, s->key_len)) {
            ok = put(out, cap, &o, ".", 1) && put(out, cap, &o, s->key, s->key_len);
        } else if (s->kind == JSEG_KEY) {
            ok = put(out, cap, &o, "['", 2);
            for (size_t k = 0; ok && k < s->key_len; k++) {
                unsigned char ch = (unsigned char)s->key[k];
                if (ch == '\'' || ch == '\\')
                    ok = put(out, cap, &o, "\\", 1);
                if (ok && (ch < 0x20 || ch == 0x7f))
                    ok = put(out, cap, &o, "?", 1);
                else if (ok)
                    ok = put(out, cap, &o, (const char *)&s->key[k], 1);
            }
            ok = ok && put(out, cap, &o, "']", 2);
        } else {
            ok = put(out, cap, &o, s->kind == JSEG_ANY ? "[*]" : "..", s->kind == JSEG_ANY ? 3 : 2);
        }
    }
    if (!ok && cap >= 4) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o < cap ? o : cap - 1] = '\0';
    return o < cap ? o : cap - 1;
}
