#include "spop/spop_notify.h"

#include "spop/spop_data.h"

bool spop_notify_find_message(const struct spop_notify *n, const char *name, struct spop_message *m)
{
    if (n->all_decoded) {
        for (unsigned i = 0; i < n->n_decoded; i++) {
            if (spop_bytes_eq(n->decoded[i].name, name)) {
                *m = n->decoded[i];
                return true;
            }
        }
        return false;
    }
    size_t off = 0;
    while (off < n->messages_len) {
        ssize_t k = spop_message_next(n->messages + off, n->messages_len - off, m);
        if (k <= 0)
            return false;
        off += (size_t)k;
        if (spop_bytes_eq(m->name, name))
            return true;
    }
    return false;
}
