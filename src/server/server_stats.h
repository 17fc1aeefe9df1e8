// The server's counters, shown on /metrics. One struct, shared by the
// Server, its connections and their streams, each counting what it does.
#pragma once

#include <cstdint>

namespace sse {

struct ServerStats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t requests = 0;
    std::uint64_t bytes_written = 0;
    std::uint64_t bytes_read = 0;
    std::uint64_t deferred_input_pauses = 0;
    std::uint64_t accept_errors = 0;
    std::uint64_t slow_subscriber_drops = 0;
    std::uint64_t heartbeats = 0;
    std::uint64_t streams_aged_out = 0;
    std::uint64_t refused_at_limit = 0;
    std::uint64_t responses_by_class[6] = {};  // [1] = 1xx ... [5] = 5xx
    std::uint64_t timeouts_header = 0;
    std::uint64_t timeouts_body = 0;
    std::uint64_t timeouts_idle = 0;
    std::uint64_t timeouts_drain = 0;

    void count_response(int status) {
        int status_class = status / 100;
        if (status_class >= 1 && status_class <= 5) ++responses_by_class[status_class];
    }
};

}  // namespace sse
