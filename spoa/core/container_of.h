/* container_of: the struct that embeds a member (libev watchers are embedded
 * in their owner's struct and recovered this way). */
#ifndef SPOA_CONTAINER_OF_H
#define SPOA_CONTAINER_OF_H

#include <stddef.h>

#define CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
