// Who is here: a stream of subscriber counts.
//
//   GET     /presence?type=room.1,room.2   event: presence
//                                          data: {"topic":"room.1","subscribers":3}
//   OPTIONS /presence                      CORS preflight
//
// On connect the stream gets the current count of each topic, then an
// event whenever one changes, at most one per topic per
// --presence-interval-ms (see sse/presence.h for the policy). A count is the
// streams following the topic by its name; pattern streams (user.*) follow
// no topic in particular and are not counted, and presence streams are not
// subscribers. Presence events carry no id: they are state, replayed to no
// one, and a reconnecting client simply gets the counts of that moment.
//
// Reading a private topic's presence needs the right to subscribe to it
// (same token, same 401/403). With --redis the counts are summed over
// every instance (see redis/redis_presence.h).
//
// Cost: only watched topics are tracked. The hub tells this class of a
// change only for them, and with --redis each instance reports only the
// topics watched somewhere, so subscribers coming and going on other
// topics cost nothing here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "loop/event_loop.h"
#include "redis/redis_presence.h"
#include "sse/hub.h"
#include "sse/presence.h"

namespace sse {

class PubSubApi;
class Connection;
class RedisBridge;
class Server;
struct Request;

struct PresenceStats {
    std::uint64_t events = 0;       // presence events handed to streams
    std::uint64_t exchanges = 0;    // Redis exchanges answered (with --redis)
    std::uint64_t exchange_failures = 0;
};

class PresenceApi final : public PresenceObserver {
public:
    // `pubsub`'s rules decide who may watch a private topic (whoever may
    // subscribe to it), and its answers carry the same CORS headers.
    PresenceApi(Server& server, Hub& hub, PubSubApi& pubsub);
    ~PresenceApi() override;

    void install();
    // Sums counts over every instance sharing `bridge`'s Redis, and starts
    // the exchanges (one per --presence-interval-ms).
    void use_redis(RedisBridge& bridge);
    // A clean shutdown: the other instances stop counting ours at once.
    void withdraw();

    std::size_t watchers() const { return streams_; }
    std::size_t watched_topics() const { return board_.size(); }
    const PresenceStats& stats() const { return stats_; }

private:
    void open(Connection& connection, const Request& request);
    void close(Connection& connection, const std::vector<std::string>& topics);
    // A count of a watched topic moved on this instance.
    void subscribers_changed(std::string_view topic, std::size_t subscribers) override;
    // The other instances' streams on `topic` (0 without --redis).
    std::size_t remote(std::string_view topic) const;
    // Sends what the board says is due, then waits for the next due change.
    void flush();
    void arm_flush();
    void exchange();
    void on_reports(const std::vector<PresenceReport>& others);

    Server& server_;
    EventLoop& loop_;
    Hub& hub_;
    PubSubApi& pubsub_;
    PresenceBoard board_;
    // The presence streams watching each topic.
    std::unordered_map<std::string, std::vector<Connection*>> watching_;
    std::size_t streams_ = 0;
    TimerId flush_timer_;
    std::optional<Millis> flush_at_;
    PresenceStats stats_;
    // With --redis: the others' counts of the topics watched anywhere.
    std::unique_ptr<RedisPresence> redis_;
    RedisBridge* bridge_ = nullptr;
    TimerId exchange_timer_;
    std::vector<std::string> watched_anywhere_;
    std::unordered_map<std::string, std::size_t> remote_;
};

}  // namespace sse
