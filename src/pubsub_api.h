// The HTTP face of the hub:
//
//   GET     /latest/<topic>            one topic per stream
//   GET     /latest?type=a,b,c         several topics, named events
//   POST    /publish?topic=T[&event=E] body = the event's data
//   DELETE  /publish?topic=T           end the topic (streams get 204 after)
//   OPTIONS /latest..., /publish       CORS preflights
//
// Streams resume with Last-Event-ID (header, or ?lastEventId= for clients
// that cannot set headers). Publishing needs a bearer token when one is
// configured, and otherwise a loopback peer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cors.h"
#include "hub.h"

namespace sse {

class Connection;
class RedisBridge;
class Server;
struct Request;

class PubSubApi {
public:
    PubSubApi(Server& server, Hub& hub);

    // Registers the routes above on the server's router.
    void install();
    // Publishes through a Redis Stream instead of straight into the hub.
    void use_redis(RedisBridge* bridge) { redis_ = bridge; }

    // Answers 401/403 and returns false when the peer may not publish
    // (also used by /topics, which reveals topic names).
    bool authorize(Connection& connection, const Request& request);

private:
    void subscribe_one(Connection& connection, const Request& request);
    void subscribe_many(Connection& connection, const Request& request);
    void subscribe(Connection& connection, const Request& request, std::vector<std::string> topics,
                   bool multi);
    void publish(Connection& connection, const Request& request, std::string_view body);
    void end_topic(Connection& connection, const Request& request);
    void preflight(Connection& connection, const Request& request, std::string_view methods);

    // Answers 400 and returns nullopt unless ?topic= names a valid topic.
    std::optional<std::string> topic_param(Connection& connection, const Request& request);
    void answer(Connection& connection, const Request& request, int status, std::string_view text);
    void answer_json(Connection& connection, const Request& request, std::string json);
    void publish_through_redis(Connection& connection, const Request& request, const std::string& topic,
                               const std::string& name, std::string_view body);

    Server& server_;
    Hub& hub_;
    CorsPolicy cors_;
    RedisBridge* redis_ = nullptr;
};

// The client's resume position: the Last-Event-ID header, else the
// lastEventId query parameter; nullopt when absent or malformed.
std::optional<EventId> resume_position(const Request& request);

// Splits "a,b,a" into distinct names in first-seen order. Returns false
// (with `error`) for an invalid name or more than kMaxTopicsPerStream.
bool parse_topic_list(std::string_view list, std::vector<std::string>& topics, std::string& error);

// Compares without an early exit, so timing does not reveal the token.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace sse
