#include "loop/log.h"

#include <cstdio>
#include <ctime>
#include <map>

namespace sse {

namespace {

struct RepeatState {
    Millis last_printed = 0;
    std::uint64_t suppressed = 0;
};

// Keys are a handful of fixed strings ("accept", "epoll"...), so the map
// stays tiny.
std::map<std::string, RepeatState, std::less<>>& repeats() {
    static std::map<std::string, RepeatState, std::less<>> state;
    return state;
}

std::string timestamp() {
    char text[32];
    std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", &local);
    return text;
}

}  // namespace

void Log::info(std::string_view message) {
    if (quiet_) return;
    std::fprintf(stderr, "sse-server: %.*s\n", static_cast<int>(message.size()), message.data());
}

void Log::error(std::string_view key, std::string_view message, Millis now) {
    auto [it, first] = repeats().try_emplace(std::string(key));
    RepeatState& state = it->second;
    if (!first && now - state.last_printed < kLogRepeatIntervalMs) {
        ++state.suppressed;
        return;
    }
    if (state.suppressed > 0) {
        std::fprintf(stderr, "sse-server: error: %.*s (and %llu more like it)\n", static_cast<int>(message.size()),
                     message.data(), static_cast<unsigned long long>(state.suppressed));
    } else {
        std::fprintf(stderr, "sse-server: error: %.*s\n", static_cast<int>(message.size()), message.data());
    }
    state.last_printed = now;
    state.suppressed = 0;
}

void Log::access(std::string_view peer, std::string_view method, std::string_view target, int status,
                 std::uint64_t bytes, Millis duration_ms) {
    if (!access_) return;
    // Close to the common log format, plus the duration in milliseconds.
    std::fprintf(stderr, "%s %.*s \"%.*s %.*s\" %d %llu %lldms\n", timestamp().c_str(),
                 static_cast<int>(peer.size()), peer.data(), static_cast<int>(method.size()), method.data(),
                 static_cast<int>(target.size()), target.data(), status, static_cast<unsigned long long>(bytes),
                 static_cast<long long>(duration_ms));
}

}  // namespace sse
