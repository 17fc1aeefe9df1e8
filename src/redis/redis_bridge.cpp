#include "redis/redis_bridge.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "sse/hub.h"
#include "sse/event_stream.h"
#include "loop/event_loop.h"
#include "loop/log.h"

namespace sse {

namespace {

// The "expires" field: wall-clock ms in decimal. One that does not parse is
// dropped, not trusted: the event is then held like one without a ttl.
std::optional<std::uint64_t> parse_expiry(std::string_view text) {
    std::uint64_t ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return ms;
}

}  // namespace

bool parse_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    std::string_view host_part = text.substr(0, colon);
    std::string_view port_part = text.substr(colon + 1);
    if (host_part.front() == '[' && host_part.back() == ']') host_part = host_part.substr(1, host_part.size() - 2);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_part.data(), port_part.data() + port_part.size(), value);
    if (ec != std::errc{} || end != port_part.data() + port_part.size() || value == 0 || value > 65535) return false;
    host = std::string(host_part == "localhost" ? "127.0.0.1" : host_part);
    port = static_cast<std::uint16_t>(value);
    return !host.empty();
}

RedisBridge::RedisBridge(EventLoop& loop, Hub& hub, const std::string& host, std::uint16_t port, std::string key,
                         std::size_t history)
    : loop_(loop),
      hub_(hub),
      key_(std::move(key)),
      history_(history),
      writer_(loop, host, port, "redis commands"),
      reader_(loop, host, port, "redis reader") {}

RedisBridge::~RedisBridge() {
    loop_.cancel_timer(retry_timer_);
}

void RedisBridge::retry_later(void (RedisBridge::*step)(), const RespValue& reply) {
    if (!reader_.connected() || retry_timer_) return;
    Log::error("redis-read", "redis reader: " + reply.text + " (asking again)", loop_.now());
    retry_timer_ = loop_.add_timer(kRedisReadRetryMs, [this, step] {
        retry_timer_ = TimerId{};
        if (reader_.connected()) (this->*step)();
    });
}

void RedisBridge::start() {
    hub_.set_external_ids(true);
    reader_.set_on_connected([this] { on_reader_connected(); });
    writer_.start();
    reader_.start();
}

void RedisBridge::publish(std::span<const std::string> topics, std::string_view name, std::string_view data,
                          std::optional<std::uint32_t> retry_ms, std::optional<std::uint64_t> expires_ms,
                          bool pause, Done done) {
    std::string maxlen = std::to_string(history_);
    std::string retry = retry_ms ? std::to_string(*retry_ms) : std::string();
    std::string expires = expires_ms ? std::to_string(*expires_ms) : std::string();
    std::vector<std::string_view> command = {"XADD", key_, "MAXLEN", "~", maxlen, "*"};
    for (const std::string& topic : topics) command.insert(command.end(), {"topic", topic});
    command.insert(command.end(), {"event", name, "data", data});
    if (retry_ms) command.insert(command.end(), {"retry", retry});
    if (expires_ms) command.insert(command.end(), {"expires", expires});
    if (pause) command.insert(command.end(), {"close", "1"});
    append(command, std::move(done));
}

void RedisBridge::end_topic(std::string_view topic, Done done) {
    std::string maxlen = std::to_string(history_);
    append({"XADD", key_, "MAXLEN", "~", maxlen, "*", "topic", topic, "end", "1"}, std::move(done));
}

void RedisBridge::append(const std::vector<std::string_view>& xadd, Done done) {
    writer_.command(xadd, [this, done = std::move(done)](const RespValue& reply) {
        std::optional<EventId> id;
        if (reply.type == RespValue::Type::Bulk) id = parse_event_id(reply.text);
        if (!id) {
            ++stats_.failed;
            done(std::nullopt, reply.is_error() ? reply.text : "unexpected reply to XADD");
            return;
        }
        ++stats_.appended;
        done(id, "");
    });
}

void RedisBridge::on_reader_connected() {
    if (loaded_) {
        read_next();  // resume after the last id seen: nothing is skipped
        return;
    }
    load_history();
}

void RedisBridge::load_history() {
    std::string count = std::to_string(history_);
    reader_.command({"XREVRANGE", key_, "+", "-", "COUNT", count}, [this](const RespValue& reply) {
        if (reply.is_error()) {
            retry_later(&RedisBridge::load_history, reply);
            return;
        }
        const std::vector<RespValue>& entries = reply.elements;
        if (entries.size() >= history_ && !entries.empty()) {
            // The stream may hold (or have trimmed) older entries we did not
            // load: a client resuming from before our oldest gets a reset.
            std::optional<EventId> oldest = parse_event_id(entries.back().elements.empty()
                                                               ? std::string_view{}
                                                               : std::string_view(entries.back().elements[0].text));
            if (oldest) {
                EventId before = oldest->seq > 0 ? EventId{oldest->ms, oldest->seq - 1}
                                                 : EventId{oldest->ms - 1, std::numeric_limits<std::uint64_t>::max()};
                hub_.set_floor(before);
            }
        } else {
            hub_.set_floor(EventId{});  // we hold the whole stream
        }
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) ingest_entry(*it, false);
        loaded_ = true;
        Log::info("redis: loaded " + std::to_string(entries.size()) + " events from stream " + key_);
        read_next();
    });
}

void RedisBridge::read_next() {
    std::string block = std::to_string(kRedisReadBlockMs);
    std::string count = std::to_string(kRedisReadCount);
    std::string from = last_seen_.is_zero() ? "0-0" : last_seen_.to_string();
    reader_.command({"XREAD", "COUNT", count, "BLOCK", block, "STREAMS", key_, from}, [this](const RespValue& reply) {
        if (reply.is_error()) {
            retry_later(&RedisBridge::read_next, reply);
            return;
        }
        // Null: the block timed out with nothing new. Otherwise
        // [[key, [entry, entry, ...]]].
        if (reply.type == RespValue::Type::Array) {
            for (const RespValue& stream : reply.elements) {
                if (stream.elements.size() < 2) continue;
                for (const RespValue& entry : stream.elements[1].elements) ingest_entry(entry, true);
            }
        }
        read_next();
    });
}

void RedisBridge::ingest_entry(const RespValue& entry, bool live) {
    // entry = [id, [field, value, field, value, ...]]
    if (entry.elements.size() < 2) return;
    std::optional<EventId> id = parse_event_id(entry.elements[0].text);
    if (!id) return;
    std::string_view name, data, retry_text, expires_text;
    std::vector<std::string_view> topics;
    bool pause = false;
    bool ends_topic = false;
    const std::vector<RespValue>& fields = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        const std::string& field = fields[i].text;
        if (field == "topic") topics.push_back(fields[i + 1].text);
        else if (field == "event") name = fields[i + 1].text;
        else if (field == "data") data = fields[i + 1].text;
        else if (field == "retry") retry_text = fields[i + 1].text;
        else if (field == "expires") expires_text = fields[i + 1].text;
        else if (field == "close") pause = fields[i + 1].text == "1";
        else if (field == "end") ends_topic = fields[i + 1].text == "1";
    }
    if (*id > last_seen_) last_seen_ = *id;
    // Not one of ours: skip, never crash.
    if (topics.empty() || !std::all_of(topics.begin(), topics.end(), [](std::string_view t) { return is_valid_topic(t); }))
        return;
    std::string_view topic = topics.front();
    if (ends_topic) {
        // Not an event: the topic ends here, on every instance, in stream
        // order (a later publish revives it, as it does locally). Loaded as
        // history it ends nothing open, but GETs then answer 204.
        ++stats_.read;
        hub_.end_topic(topic);
        return;
    }
    if (!name.empty() && !is_valid_topic(name)) name = {};
    // A retry that is not one we would have written is dropped, not trusted.
    std::optional<std::uint32_t> retry_ms;
    std::uint32_t ms = 0;
    auto [end, ec] = std::from_chars(retry_text.data(), retry_text.data() + retry_text.size(), ms);
    if (ec == std::errc{} && end == retry_text.data() + retry_text.size() && ms >= kMinRetryMs && ms <= kMaxRetryMs)
        retry_ms = ms;
    ++stats_.read;
    bool fresh = *id > hub_.last_id();
    hub_.ingest(*id, topics, name, data, retry_ms, parse_expiry(expires_text), wall_clock_ms());
    if (live && pause && fresh) hub_.pause_topics(topics, retry_ms);
}

}  // namespace sse
