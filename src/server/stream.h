// A connection's life as an event stream, in one place: the head that opens
// it, the first "retry:", a heartbeat for as long as it stays quiet, the age
// limit, the stall watch and the slow-reader drop. The heartbeat policy is
// changed here and nowhere else.
//
//   Streams  one per server: the policy, the retry jitter, and the heartbeat
//            order (an ActivityList, quietest first) with its one timer.
//   Stream   one per connection, embedded in it: its place in that order,
//            its age and stall timers, its replay allowance.
//
// Connection calls down into both. They reach the connection only through
// StreamSocket, declared here and implemented by Connection, so nothing in
// this file pair includes connection.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/activity_list.h"
#include "loop/event_loop.h"
#include "http/http_response.h"
#include "loop/output_buffer.h"
#include "server/server_stats.h"

namespace sse {

// A stream's place in the heartbeat order is refreshed at most once per
// heartbeat interval divided by this (see Stream::sent).
inline constexpr Millis kActivityGranularity = 8;
// A stream turned away past --max-conns is told to come back after between
// 1 and this many times --retry-ms: later than usual, and spread over a
// window several times wider than the normal +-20%, so that browsers
// refused together do not all return in the same instant.
inline constexpr std::uint32_t kCapacityRetrySpread = 4;
// Unsent bytes a stream socket may hold in the kernel (TCP_NOTSENT_LOWAT).
// Beyond it writes wait in the stream's own buffer, where --max-buffer can
// see them; without it the kernel would quietly hold megabytes for a reader
// that has stopped.
inline constexpr int kStreamNotSentLowWaterBytes = 128 * 1024;

// What a stream does to the connection that carries it.
class StreamSocket {
public:
    // Queues bytes; they leave before the loop sleeps.
    virtual void write(const ChunkRef& chunk) = 0;
    // Sends what is queued, then closes.
    virtual void end() = 0;
    // Closes at once, dropping what is queued (the reader is gone or too slow).
    virtual void drop() = 0;
    virtual std::size_t pending_bytes() const = 0;
    // Bytes written to the socket so far: progress, for the stall watch.
    virtual std::uint64_t bytes_sent() const = 0;
    // The kernel's buffer was full at the last flush.
    virtual bool write_blocked() const = 0;

protected:
    ~StreamSocket() = default;
};

struct StreamPolicy {
    std::uint32_t retry_ms = 3000;       // --retry-ms, jittered +-20% per stream
    std::uint32_t heartbeat_ms = 15000;  // --heartbeat-ms
    std::uint32_t max_age_s = 0;         // --max-stream-age, 0: none
    std::size_t max_buffer = 1024 * 1024;  // --max-buffer: unsent bytes before a drop
    std::uint32_t stall_ms = 60'000;     // --idle-timeout-ms: a full socket with no progress
};

class Stream;

class Streams {
public:
    Streams(EventLoop& loop, const StreamPolicy& policy, ServerStats& stats);
    ~Streams();
    Streams(const Streams&) = delete;
    Streams& operator=(const Streams&) = delete;

    // The head of a stream's answer: 200, text/event-stream, never cached
    // or transformed, never buffered by nginx, no length (the body runs
    // until the connection closes), plus `extra` (CORS). `closes`: the
    // connection ends after it ("Connection: close"), else keep-alive.
    static std::string head(const HeaderList& extra, bool closes);
    // The whole body of a stream turned away for now: a retry: and a
    // comment saying why. At capacity the retry is capacity_retry_ms(),
    // while shutting down it is the usual jittered one.
    std::string turned_away_body(bool at_capacity);

    // --retry-ms with +-20% jitter, so that the clients of a restarted
    // server do not all come back in the same instant.
    std::uint32_t jittered_retry_ms();
    // Uniform between --retry-ms and kCapacityRetrySpread times it.
    std::uint32_t capacity_retry_ms();
    // `base_ms` jittered upward by at most 20%: never sooner than asked.
    std::uint32_t retry_at_least_ms(std::uint32_t base_ms);

    std::size_t count() const { return order_.size(); }
    EventLoop& loop() const { return loop_; }
    const StreamPolicy& policy() const { return policy_; }
    ServerStats& stats() const { return stats_; }

private:
    friend class Stream;
    // A stream sent something at `now`: its heartbeat moves (see Stream::sent).
    void touch(ActivityNode& node);
    void arm_heartbeat();
    void send_heartbeats();

    EventLoop& loop_;
    StreamPolicy policy_;
    ServerStats& stats_;
    ActivityList order_;         // open streams, quietest first
    TimerId heartbeat_timer_;
    ChunkRef heartbeat_;         // one shared ": heartbeat" comment
    std::mt19937 rng_;           // retry jitter
};

// One stream's state, embedded in its connection. Inert until start().
class Stream {
public:
    Stream() = default;
    ~Stream() { stop(); }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    // The connection became a stream: queues its first retry:, puts it in
    // the heartbeat order and starts its age limit.
    void start(Streams& streams, StreamSocket& socket);
    bool started() const { return streams_ != nullptr; }

    // Queues bytes of the stream's own or a shared chunk; it counts as
    // activity, so the heartbeat waits.
    void send(const ChunkRef& chunk);
    // A live event. A reader whose unsent output passes --max-buffer (plus
    // what is left of its replay) is dropped: it reconnects with
    // Last-Event-ID and the history gives it what it missed.
    void deliver(const ChunkRef& chunk);
    // A replayed event: accepted whole, however large, since the client
    // resuming is exactly the one that fell behind; its bytes widen the
    // --max-buffer limit until they are written.
    void deliver_replay(const ChunkRef& chunk);
    // A last retry: (at least `retry_ms`, jittered upward, or the usual
    // jittered hint), then the end: the client comes back and resumes.
    void end_with_retry(std::optional<std::uint32_t> retry_ms);
    // After each flush of the connection: `written` bytes left. Watches a
    // socket that stays full: a reader that makes no progress for
    // --idle-timeout-ms has stopped, and is dropped.
    void flushed(std::size_t written);
    // Leaves the heartbeat order and cancels its timers. The one place that
    // does; harmless when not started or already stopped.
    void stop();

private:
    void sent();
    void check_stall(std::uint64_t sent_when_armed);
    StreamSocket& socket() const { return *static_cast<StreamSocket*>(activity_.owner); }

    Streams* streams_ = nullptr;     // set by start(), cleared by stop()
    // Its place in the heartbeat order; `owner` is the StreamSocket, so a
    // heartbeat reaches the connection straight from the list.
    ActivityNode activity_;
    TimerId age_timer_;              // --max-stream-age
    TimerId stall_timer_;            // a socket that stays full
    std::size_t replay_unsent_ = 0;  // replayed bytes not yet written
};

}  // namespace sse
