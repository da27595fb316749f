#include "mirror/tls_check.h"

#include "mirror/tls_client.h"

bool tls_check_config(const struct config *c, struct config_errors *errs)
{
    bool ok = true;
    for (size_t r = 0; r < c->n_routes; r++) {
        for (size_t i = 0; i < c->routes[r].n_mirrors; i++) {
            const struct config_mirror *m = &c->routes[r].mirrors[i];
            if (!m->tls)
                continue;
            struct tls_client *tc = tls_client_new(m->tls, m->host);
            const char *key = "";
            const char *why = tls_client_error(tc, &key);
            if (why) {
                config_errors_addf(errs, "%s:%d: routes[%zu].mirrors[%zu].tls%s%s: %s",
                                   c->path ? c->path : "--mirror", m->tls->line, r, i, key[0] ? "." : "", key,
                                   why);
                ok = false;
            }
            tls_client_free(tc);
        }
    }
    return ok;
}
