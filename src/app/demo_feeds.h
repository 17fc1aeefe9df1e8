// The demo topics, so that `make && ./sse-server` shows live data at once:
// "news" (a headline), "weather" (JSON) and "stock" (JSON, a random walk),
// each published through the hub at random intervals of 1-5 s, driven by
// the scheduler like everything else.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include "loop/timer_queue.h"

namespace sse {

class EventLoop;

inline constexpr Millis kDemoMinPauseMs = 1000;
inline constexpr Millis kDemoMaxPauseMs = 5000;

class DemoFeeds {
public:
    // How an event is published: straight into the hub, or through Redis.
    using Publish = std::function<void(std::string_view topic, const std::string& data)>;

    DemoFeeds(EventLoop& loop, Publish publish, std::uint64_t seed);

    // Starts the three feeds.
    void start();

    // One payload of each feed (public for tests).
    std::string next_headline();
    std::string next_weather();
    std::string next_stock();

private:
    void schedule(const char* topic, std::string (DemoFeeds::*make)());

    EventLoop& loop_;
    Publish publish_;
    std::mt19937_64 rng_;
    double price_ = 123.45;
    std::size_t headline_ = 0;
};

}  // namespace sse
