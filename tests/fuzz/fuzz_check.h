/* What every fuzz target shares: CHECK(cond) aborts with the file, line and
 * condition when an invariant the target asserts does not hold, so that
 * libFuzzer records the input as a crash. */
#ifndef SPOA_FUZZ_CHECK_H
#define SPOA_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                     \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

#endif
