// Several sse-server instances sharing one Redis Stream.
//
//   publish on any instance --XADD key MAXLEN ~ N * topic T event E data D-->
//   Redis Stream --XREAD BLOCK (one reader per instance)--> Hub::ingest
//
// The Redis entry id becomes the event id, so ids are the same on every
// instance and a client may resume with Last-Event-ID on any of them. Even
// the instance that published learns of its event through XREAD, so every
// instance delivers the stream's entries in the stream's order.
//
// Two connections: XREAD BLOCK holds its connection, so commands (XADD) use
// another. On start the reader first loads the newest N entries
// (XREVRANGE ... COUNT N) into the hub's history, then reads from there.
// After a lost link it resumes XREAD from the last id it saw, so entries
// appended meanwhile are not missed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "sse/event_id.h"
#include "redis/redis_client.h"

namespace sse {

class Hub;

// How long one XREAD may block before it is issued again; also bounds how
// long a silently dead link can go unnoticed.
inline constexpr int kRedisReadBlockMs = 5000;
// Entries one XREAD may return.
inline constexpr int kRedisReadCount = 1000;
// After an error reply on a live link (Redis still loading its data after a
// restart answers "-LOADING ..."), the reader asks again after this long.
inline constexpr Millis kRedisReadRetryMs = 200;

struct RedisBridgeStats {
    std::uint64_t appended = 0;   // XADDs acknowledged
    std::uint64_t failed = 0;     // publishes refused or lost (answered 503)
    std::uint64_t read = 0;       // entries read from the stream
};

class RedisBridge {
public:
    RedisBridge(EventLoop& loop, Hub& hub, const std::string& host, std::uint16_t port, std::string key,
                std::size_t history);

    void start();

    // Both links are up and the history is loaded.
    bool up() const { return writer_.connected() && reader_.connected() && loaded_; }

    // Appends an event. `done` gets the id, or nullopt and a reason.
    using Done = std::function<void(std::optional<EventId> id, const std::string& error)>;
    // `retry_ms` and `pause` travel in the entry, so every instance encodes
    // the same event and pauses the topic's streams when it reads it; so
    // does `expires_ms`, absolute on the wall clock, so every instance
    // (and one that starts later) stops holding the event at the same time.
    // One entry carries the event for all its `topics` (a "topic" field each).
    void publish(std::span<const std::string> topics, std::string_view name, std::string_view data,
                 std::optional<std::uint32_t> retry_ms, std::optional<std::uint64_t> expires_ms, bool pause,
                 Done done);
    // Appends the end of `topic` (an entry with "end" 1 and no event): every
    // instance ends its streams of the topic when it reads it, and one that
    // starts later learns of it with the history (until the stream's MAXLEN
    // trims the entry away). `done` gets the entry's id.
    void end_topic(std::string_view topic, Done done);
    // Sends any other command (SET, GET, DEL...) on the commands link,
    // behind the XADDs sent before it: one link is answered in order, so a
    // caller's own keys and its events keep their order in Redis.
    void command(const std::vector<std::string_view>& words, RedisClient::ReplyHandler handler) {
        writer_.command(words, std::move(handler));
    }

    const RedisBridgeStats& stats() const { return stats_; }
    std::uint64_t reconnects() const { return writer_.reconnects() + reader_.reconnects(); }
    const std::string& key() const { return key_; }
    ~RedisBridge();

private:
    // Sends one XADD on the commands link; `done` gets the entry's id, or
    // nullopt and the reason (counted in stats().failed).
    void append(const std::vector<std::string_view>& xadd, Done done);
    void on_reader_connected();
    void load_history();
    void read_next();
    // An error reply: ask again later if the link is still up (if it is
    // not, on_reader_connected resumes when it is back).
    void retry_later(void (RedisBridge::*step)(), const RespValue& reply);
    // `live`: read as it was published (not loaded as history at start),
    // so a pause in it applies to the streams open now.
    void ingest_entry(const RespValue& entry, bool live);

    EventLoop& loop_;
    Hub& hub_;
    std::string key_;
    std::size_t history_;
    RedisClient writer_;
    RedisClient reader_;
    bool loaded_ = false;
    EventId last_seen_;
    RedisBridgeStats stats_;
    TimerId retry_timer_;
};

// Splits "host:port" ("[::1]:6379" for IPv6). False when malformed.
bool parse_host_port(std::string_view text, std::string& host, std::uint16_t& port);

}  // namespace sse
