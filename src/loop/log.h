// Logging to stderr: one start-up line, errors once (never a flood), and
// an optional access log line per request or finished stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "loop/timer_queue.h"

namespace sse {

// The same error key is printed at most once per this interval; repeats in
// between are counted and reported with the next line of that key.
inline constexpr Millis kLogRepeatIntervalMs = 10'000;

class Log {
public:
    static void set_quiet(bool quiet) { quiet_ = quiet; }
    static void set_access_log(bool on) { access_ = on; }
    static bool access_enabled() { return access_; }

    // An informational line (start-up, shutdown); silenced by --quiet.
    static void info(std::string_view message);
    // An error, rate-limited per `key` (e.g. "accept"); printed even with
    // --quiet, since errors must not pass unseen.
    static void error(std::string_view key, std::string_view message, Millis now);
    // One access log line: time, peer, method, path, status, bytes, ms.
    static void access(std::string_view peer, std::string_view method, std::string_view target,
                       int status, std::uint64_t bytes, Millis duration_ms);

private:
    static inline bool quiet_ = false;
    static inline bool access_ = false;
};

}  // namespace sse
