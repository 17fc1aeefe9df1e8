// One connection to Redis inside the event loop: RESP over a non-blocking
// socket, commands pipelined, replies parsed incrementally and matched to
// their callbacks in order (Redis answers in order on one connection).
//
// When the connection fails, every waiting callback gets an error reply at
// once (nothing waits forever), and the client reconnects with exponential
// backoff. on_connected runs after each (re)connection, so the owner can
// resume what it was doing (e.g. XREAD from the last id it saw).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "loop/event_loop.h"
#include "redis/resp.h"
#include "loop/socket.h"

namespace sse {

inline constexpr Millis kRedisMinBackoffMs = 100;
inline constexpr Millis kRedisMaxBackoffMs = 5000;
// Replies larger than this are a protocol error (the link is reset).
inline constexpr std::size_t kRedisMaxReplyBytes = 256 * 1024 * 1024;

class RedisClient {
public:
    using ReplyHandler = std::function<void(const RespValue& reply)>;

    // `name` appears in log lines ("redis commands", "redis reader").
    RedisClient(EventLoop& loop, std::string host, std::uint16_t port, std::string name);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // Starts connecting (and reconnecting whenever the link drops).
    void start();
    void set_on_connected(std::function<void()> callback) { on_connected_ = std::move(callback); }
    void set_on_disconnected(std::function<void()> callback) { on_disconnected_ = std::move(callback); }

    bool connected() const { return state_ == State::Connected; }
    std::uint64_t reconnects() const { return reconnects_; }

    // Sends one command; `handler` receives its reply, or an Error reply
    // ("ERR connection lost" / "ERR not connected") if the link fails first.
    void command(const std::vector<std::string_view>& words, ReplyHandler handler);

private:
    enum class State { Idle, Connecting, Connected };

    void connect();
    void on_events(std::uint32_t events);
    void on_connect_done();
    void read_replies();
    void flush();
    void fail(const std::string& why);
    void update_interest();

    EventLoop& loop_;
    std::string host_;
    std::uint16_t port_;
    std::string name_;
    State state_ = State::Idle;
    UniqueFd fd_;
    std::string input_;
    std::string output_;
    std::deque<ReplyHandler> waiting_;   // one per command sent, in order
    std::function<void()> on_connected_;
    std::function<void()> on_disconnected_;
    TimerId retry_timer_;
    Millis backoff_ = kRedisMinBackoffMs;
    std::uint64_t reconnects_ = 0;
    bool ever_connected_ = false;
};

}  // namespace sse
