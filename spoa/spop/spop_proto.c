#include "spop/spop_proto.h"

const char *spop_error_str(int code)
{
    switch (code) {
#define SPOP_ERR_CASE(name, value, text)                                                                     \
    case value:                                                                                              \
        return text;
        SPOP_ERRORS(SPOP_ERR_CASE)
#undef SPOP_ERR_CASE
    }
    return "unknown status";
}

const char *spop_frame_type_str(int type)
{
    switch (type) {
    case SPOP_FRM_T_UNSET:
        return "unset";
    case SPOP_FRM_T_HAPROXY_HELLO:
        return "haproxy-hello";
    case SPOP_FRM_T_HAPROXY_DISCON:
        return "haproxy-disconnect";
    case SPOP_FRM_T_HAPROXY_NOTIFY:
        return "notify";
    case SPOP_FRM_T_AGENT_HELLO:
        return "agent-hello";
    case SPOP_FRM_T_AGENT_DISCON:
        return "agent-disconnect";
    case SPOP_FRM_T_AGENT_ACK:
        return "ack";
    }
    return "unknown";
}
