#include "app/demo_feeds.h"

#include <cmath>
#include <cstdio>

#include "loop/event_loop.h"

namespace sse {

namespace {

constexpr const char* kHeadlines[] = {
    "Local server streams a million events without breaking a sweat",
    "Browsers reconnect on their own, study finds",
    "Last-Event-ID saves the day after a train goes through a tunnel",
    "Engineers agree: one connection beats polling",
    "Heartbeat comments keep proxies from dozing off",
    "Weather service switches to Server-Sent Events",
    "New topic appears; nobody had to restart anything",
    "Retry hint spreads reconnections over time",
};

}  // namespace

DemoFeeds::DemoFeeds(EventLoop& loop, Publish publish, std::uint64_t seed)
    : loop_(loop), publish_(std::move(publish)), rng_(seed) {}

void DemoFeeds::start() {
    schedule("news", &DemoFeeds::next_headline);
    schedule("weather", &DemoFeeds::next_weather);
    schedule("stock", &DemoFeeds::next_stock);
}

void DemoFeeds::schedule(const char* topic, std::string (DemoFeeds::*make)()) {
    std::uniform_int_distribution<Millis> pause(kDemoMinPauseMs, kDemoMaxPauseMs);
    loop_.add_timer(pause(rng_), [this, topic, make] {
        publish_(topic, (this->*make)());
        schedule(topic, make);
    });
}

std::string DemoFeeds::next_headline() {
    constexpr std::size_t count = sizeof kHeadlines / sizeof kHeadlines[0];
    return kHeadlines[headline_++ % count];
}

std::string DemoFeeds::next_weather() {
    std::uniform_int_distribution<int> temperature(-5, 35), wind(0, 60), rain(0, 100);
    char json[128];
    std::snprintf(json, sizeof json, R"({"temperature":"%dC","wind":"%dKph","rain":"%d%%"})",
                  temperature(rng_), wind(rng_), rain(rng_));
    return json;
}

std::string DemoFeeds::next_stock() {
    // A random walk of at most +-2% a step, never below one cent.
    std::uniform_real_distribution<double> step(-0.02, 0.02);
    double previous = price_;
    price_ = std::max(0.01, std::round(price_ * (1.0 + step(rng_)) * 100.0) / 100.0);
    double increase = std::round((price_ - previous) * 100.0) / 100.0;
    char json[160];
    std::snprintf(json, sizeof json, R"({"symbol":"AC","company":"Acme Corp","price":%.2f,"increase":%.2f})",
                  price_, increase);
    return json;
}

}  // namespace sse
