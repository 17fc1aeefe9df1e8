// Endpoints for operators:
//
//   GET /healthz          "ok" while the loop runs (for load balancers);
//                         503 while the Redis link (with --redis) is down
//   GET /metrics          Prometheus text exposition format
//   GET /topics           JSON: every topic with subscribers, last id, history
//   GET /topics/<topic>   JSON: one topic
//   OPTIONS /topics...    CORS preflight (a browser asks before sending
//                         Authorization)
//
// Every answer carries the CORS headers of --cors-origin, as the stream
// and publishing endpoints do.
// /topics reveals topic names, so it follows the publishing rule (bearer
// token, or loopback peers only).
#pragma once

#include <string>

#include "http/cors.h"

namespace sse {

class Connection;
class Hub;
class PresenceApi;
class PubSubApi;
class RedisBridge;
class Server;
struct Request;

// How many topics /metrics lists by name; the rest are summed into one
// series, so the number of series stays bounded whatever clients do.
inline constexpr std::size_t kMetricsTopTopics = 20;

class StatusApi {
public:
    // `redis` is nullptr when the instance runs alone.
    StatusApi(Server& server, Hub& hub, PubSubApi& pubsub, const RedisBridge* redis = nullptr);

    // Registers the routes above.
    void install();
    // /metrics also shows presence (sse_presence_*).
    void show_presence(const PresenceApi& presence) { presence_ = &presence; }

    // The /metrics page (public for tests).
    std::string render_metrics() const;
    // One topic as a JSON object.
    std::string topic_json(const std::string& topic) const;

private:
    // Every answer of these endpoints goes out through here, with the CORS
    // headers for the request's Origin (--cors-origin), as in PubSubApi.
    void send(Connection& connection, const Request& request, Response response) const;
    // True when the request may list topics; `everything` when it may see
    // them all. Answers 401/403 when not.
    bool may_list(Connection& connection, const Request& request, bool& everything);
    void topics(Connection& connection, const Request& request);
    void one_topic(Connection& connection, const Request& request);

    Server& server_;
    Hub& hub_;
    PubSubApi& pubsub_;
    const RedisBridge* redis_;
    const PresenceApi* presence_ = nullptr;
    CorsPolicy cors_;
};

// Resident memory of this process in bytes (from /proc/self/statm), 0 if unknown.
std::size_t resident_memory_bytes();

}  // namespace sse
