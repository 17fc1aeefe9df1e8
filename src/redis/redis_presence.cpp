#include "redis/redis_presence.h"

#include <charconv>

#include "redis/redis_bridge.h"
#include "sse/hub.h"

namespace sse {

namespace {

// KEYS[1] the reports (a hash), KEYS[2] the leases (a sorted set scored by
// when each ends); ARGV: instance, lease in ms, report. Redis runs a script
// atomically, so no exchange sees another half done.
constexpr std::string_view kExchangeScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('ZREM', KEYS[2], gone)
  redis.call('HDEL', KEYS[1], gone)
end
return redis.call('HGETALL', KEYS[1])
)lua";

// Calls f(word) for each space-separated word of `line`; false if one is empty.
template <typename F>
bool each_word(std::string_view line, F f) {
    if (line.empty()) return true;
    while (true) {
        std::size_t space = line.find(' ');
        if (!f(line.substr(0, space))) return false;
        if (space == std::string_view::npos) return true;
        line.remove_prefix(space + 1);
    }
}

}  // namespace

std::string encode_presence_report(const PresenceReport& report) {
    std::string text;
    for (const std::string& topic : report.watched) {
        if (!text.empty()) text += ' ';
        text += topic;
    }
    text += '\n';
    bool first = true;
    for (const auto& [topic, count] : report.counts) {
        if (!first) text += ' ';
        first = false;
        text.append(topic).append(" ").append(std::to_string(count));
    }
    return text;
}

std::optional<PresenceReport> parse_presence_report(std::string_view text) {
    std::size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return std::nullopt;
    PresenceReport report;
    bool ok = each_word(text.substr(0, newline), [&](std::string_view topic) {
        if (!is_valid_topic(topic)) return false;
        report.watched.emplace_back(topic);
        return true;
    });
    std::string_view pending_topic;
    ok = ok && each_word(text.substr(newline + 1), [&](std::string_view word) {
        if (pending_topic.empty()) {
            pending_topic = word;
            return is_valid_topic(word);
        }
        std::size_t count = 0;
        auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), count);
        if (ec != std::errc{} || end != word.data() + word.size()) return false;
        report.counts.emplace_back(std::string(pending_topic), count);
        pending_topic = {};
        return true;
    });
    if (!ok || !pending_topic.empty()) return std::nullopt;
    return report;
}

RedisPresence::RedisPresence(RedisBridge& bridge, std::string key, std::string instance, Millis interval_ms)
    : bridge_(bridge),
      reports_key_(key + ":presence"),
      leases_key_(key + ":presence:alive"),
      instance_(std::move(instance)),
      lease_ms_(std::to_string(interval_ms * kPresenceLeaseIntervals)) {}

void RedisPresence::exchange(const PresenceReport& mine, Done done) {
    std::string report = encode_presence_report(mine);
    bridge_.command({"EVAL", kExchangeScript, "2", reports_key_, leases_key_, instance_, lease_ms_, report},
                    [this, done = std::move(done)](const RespValue& reply) {
                        if (reply.type != RespValue::Type::Array) {
                            done(nullptr);
                            return;
                        }
                        // HGETALL: instance, report, instance, report...
                        std::vector<PresenceReport> others;
                        const std::vector<RespValue>& flat = reply.elements;
                        for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
                            if (flat[i].text == instance_) continue;
                            if (std::optional<PresenceReport> r = parse_presence_report(flat[i + 1].text)) {
                                others.push_back(std::move(*r));
                            }
                        }
                        done(&others);
                    });
}

void RedisPresence::withdraw() {
    bridge_.command({"HDEL", reports_key_, instance_}, [](const RespValue&) {});
    bridge_.command({"ZREM", leases_key_, instance_}, [](const RespValue&) {});
}

}  // namespace sse
