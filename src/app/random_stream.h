// GET /random: the tutorial's quick start. Each stream receives
// "data: N" (N uniform in 1..1000) after its own random pause of 0-3 s.
#pragma once

#include <cstdint>
#include <random>

#include "loop/timer_queue.h"

namespace sse {

class Connection;
class Server;

inline constexpr int kRandomMin = 1;
inline constexpr int kRandomMax = 1000;
inline constexpr Millis kRandomMaxPauseMs = 3000;

class RandomStream {
public:
    explicit RandomStream(Server& server, std::uint64_t seed);

    // Registers GET /random on the server's router.
    void install();

private:
    // Sends one number and schedules the next, on this connection's timer.
    void schedule_next(Connection& connection);
    void tick(Connection& connection);

    Server& server_;
    std::mt19937_64 rng_;
};

}  // namespace sse
