/* The agent's version, reported by --version, the logs and build info. */
#ifndef SPOA_VERSION_H
#define SPOA_VERSION_H

#define SPOA_SHADOW_VERSION "0.1.0"

#endif
