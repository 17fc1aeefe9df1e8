// A connection's life as an event stream; the contracts are in stream.h.
#include "server/stream.h"

#include <algorithm>
#include <cstdint>

#include "sse/event_stream.h"
#include "http/http_response.h"

namespace sse {

// --- Streams: what all streams of a server share ---

Streams::Streams(EventLoop& loop, const StreamPolicy& policy, ServerStats& stats)
    : loop_(loop),
      policy_(policy),
      stats_(stats),
      heartbeat_(ChunkRef::make(encode_comment("heartbeat"))),
      rng_(std::random_device{}()) {}

Streams::~Streams() {
    loop_.cancel_timer(heartbeat_timer_);
}

std::string Streams::head(const HeaderList& extra, bool closes) {
    Response response;
    response.content_type = "text/event-stream";
    // A stream has no length: it ends when the connection closes, so the
    // connection cannot carry another request after it.
    response.has_length = false;
    response.headers.reserve(extra.size() + 2);
    // no-cache: never stored; no-transform: a proxy must not compress (and
    // so buffer) the events (RFC 9111).
    response.headers.emplace_back("Cache-Control", "no-cache, no-transform");
    // nginx forwards each event as it comes, even where buffering is on.
    response.headers.emplace_back("X-Accel-Buffering", "no");
    response.headers.insert(response.headers.end(), extra.begin(), extra.end());
    return format_head(response, closes ? ConnectionHeader::Close : ConnectionHeader::KeepAlive);
}

std::string Streams::turned_away_body(bool at_capacity) {
    if (at_capacity) {
        // Spread wide: a crowd refused together must not return together.
        return encode_retry(capacity_retry_ms()) +
               encode_comment("server at capacity, come back after the retry delay");
    }
    // Shutting down: come back, like every stream ended now, to whichever
    // instance is up by then.
    return encode_retry(jittered_retry_ms()) + encode_comment("server shutting down, come back after the retry delay");
}

std::uint32_t Streams::jittered_retry_ms() {
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    return static_cast<std::uint32_t>(policy_.retry_ms * jitter(rng_));
}

std::uint32_t Streams::capacity_retry_ms() {
    std::uniform_real_distribution<double> spread(1.0, kCapacityRetrySpread);
    return static_cast<std::uint32_t>(policy_.retry_ms * spread(rng_));
}

std::uint32_t Streams::retry_at_least_ms(std::uint32_t base_ms) {
    std::uniform_real_distribution<double> jitter(1.0, 1.2);
    return static_cast<std::uint32_t>(std::min<double>(base_ms * jitter(rng_), UINT32_MAX));
}

void Streams::touch(ActivityNode& node) {
    // Moving a node to the tail touches three connections' memory (it and
    // its two neighbours): on a fan-out to thousands of streams that is the
    // costliest part of a delivery. So a busy stream moves at most once per
    // heartbeat/kActivityGranularity; its heartbeat may then come that much
    // early, which costs a few bytes and no correctness.
    Millis now = loop_.now();
    if (node.linked && now - node.last_active < policy_.heartbeat_ms / kActivityGranularity) return;
    order_.touch(node, now);
    if (!heartbeat_timer_) arm_heartbeat();
}

void Streams::arm_heartbeat() {
    ActivityNode* quietest = order_.oldest();
    if (!quietest) return;
    Millis due = quietest->last_active + policy_.heartbeat_ms;
    heartbeat_timer_ = loop_.add_timer(std::max<Millis>(0, due - loop_.now()), [this] {
        // The id stays set while the heartbeats go out, so the writes (which
        // may count as activity) do not arm a second timer; one at a time.
        send_heartbeats();
        heartbeat_timer_ = TimerId{};
        arm_heartbeat();
    });
}

void Streams::send_heartbeats() {
    // The list moves each due stream to its tail before the visit, so every
    // stream is due again one interval later, however many there are.
    order_.visit_idle(loop_.now(), policy_.heartbeat_ms, [this](ActivityNode& node) {
        ++stats_.heartbeats;
        static_cast<StreamSocket*>(node.owner)->write(heartbeat_);
    });
}

// --- Stream: one stream's state ---

void Stream::start(Streams& streams, StreamSocket& socket) {
    streams_ = &streams;
    activity_.owner = &socket;
    socket.write(ChunkRef::make(encode_retry(streams.jittered_retry_ms())));
    sent();
    std::uint32_t max_age_s = streams.policy().max_age_s;
    if (max_age_s > 0) {
        age_timer_ = streams.loop().add_timer(static_cast<Millis>(max_age_s) * 1000, [this] {
            age_timer_ = TimerId{};
            // End with a fresh retry hint: the client comes back after it
            // and resumes from its Last-Event-ID.
            ++streams_->stats().streams_aged_out;
            end_with_retry(std::nullopt);
        });
    }
}

void Stream::sent() {
    if (streams_) streams_->touch(activity_);
}

void Stream::send(const ChunkRef& chunk) {
    if (!streams_) return;
    socket().write(chunk);
    sent();
}

void Stream::deliver(const ChunkRef& chunk) {
    if (!streams_) return;
    send(chunk);
    if (socket().pending_bytes() > streams_->policy().max_buffer + replay_unsent_) {
        // A reader this far behind would make us hold its backlog forever.
        ++streams_->stats().slow_subscriber_drops;
        socket().drop();
    }
}

void Stream::deliver_replay(const ChunkRef& chunk) {
    if (!streams_) return;
    replay_unsent_ += chunk.size();
    send(chunk);
}

void Stream::end_with_retry(std::optional<std::uint32_t> retry_ms) {
    if (!streams_) return;
    std::uint32_t hint = retry_ms ? streams_->retry_at_least_ms(*retry_ms) : streams_->jittered_retry_ms();
    send(ChunkRef::make(encode_retry(hint)));
    socket().end();
}

void Stream::flushed(std::size_t written) {
    if (!streams_) return;
    replay_unsent_ -= std::min(replay_unsent_, written);
    EventLoop& loop = streams_->loop();
    if (!socket().write_blocked()) {
        loop.cancel_timer(stall_timer_);
        stall_timer_ = TimerId{};
        return;
    }
    if (stall_timer_) return;  // already watching: progress is checked then
    std::uint64_t sent_now = socket().bytes_sent();
    stall_timer_ = loop.add_timer(streams_->policy().stall_ms, [this, sent_now] { check_stall(sent_now); });
}

void Stream::check_stall(std::uint64_t sent_when_armed) {
    stall_timer_ = TimerId{};
    if (!socket().write_blocked()) return;
    if (socket().bytes_sent() == sent_when_armed) {
        ++streams_->stats().slow_subscriber_drops;
        socket().drop();
        return;
    }
    flushed(0);  // it moved, slowly: look again later
}

void Stream::stop() {
    if (!streams_) return;
    EventLoop& loop = streams_->loop();
    loop.cancel_timer(age_timer_);
    loop.cancel_timer(stall_timer_);
    age_timer_ = stall_timer_ = TimerId{};
    streams_->order_.remove(activity_);
    streams_ = nullptr;
}

}  // namespace sse
