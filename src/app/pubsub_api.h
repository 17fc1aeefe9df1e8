// The HTTP face of the hub:
//
//   GET     /latest/<topic>            one topic per stream
//   GET     /latest?type=a,b,c         several topics, named events
//   POST    /publish?topic=T[&topic=U...][&event=E][&retry=MS][&close=1][&ttl=S]
//                                      body = the event's data; retry= puts
//                                      a "retry: MS" line in the event;
//                                      close=1 then pauses the topic: its
//                                      streams close and their clients
//                                      come back after MS and resume;
//                                      ttl= replays it for S seconds only
//                                      An Idempotency-Key makes a retry
//                                      safe: see app/idempotency.h
//   DELETE  /publish?topic=T           end the topic (streams get 204 after)
//   OPTIONS /latest..., /publish       CORS preflights
//
// Streams resume with Last-Event-ID (header, or ?lastEventId= for clients
// that cannot set headers). Publishing needs a bearer token when one is
// configured, and otherwise a loopback peer.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/access.h"
#include "app/idempotency.h"
#include "app/redis_idempotency.h"
#include "http/cors.h"
#include "sse/hub.h"

namespace sse {

class Connection;
class RedisBridge;
class Server;
struct Request;

// The most distinct topics one publish may name (?topic=a&topic=b...).
inline constexpr std::size_t kMaxTopicsPerPublish = 16;

class PubSubApi {
public:
    // `access` decides who may read and publish which topic (see access.h).
    PubSubApi(Server& server, Hub& hub, const Access& access);

    // Registers the routes above on the server's router.
    void install();
    // Publishes through a Redis Stream instead of straight into the hub;
    // Idempotency-Keys are then kept in Redis too.
    void use_redis(RedisBridge* bridge);

    // The operator's rule: the request carries --publish-token, or, without
    // one, comes from a loopback peer. Such a request may publish to and
    // read every topic, and list them all.
    bool is_operator(const Connection& connection, const Request& request) const;
    // True when the request carries --publish-token (never without one).
    bool carries_publish_token(const Request& request) const;
    // Answers 401/403 and returns false unless is_operator() (used by
    // /topics, which reveals topic names, when no token grants them).
    bool authorize(Connection& connection, const Request& request);
    // May the request publish to (or end) every one of `topics`: the
    // operator's rule, or a token whose publish patterns cover each. Answers
    // 401/403 if not.
    bool authorize_publish(Connection& connection, const Request& request, std::span<const std::string> topics);
    // May the request read every one of `names` (a stream, or their
    // presence)? Who may read comes first, and a refusal (401 with
    // WWW-Authenticate, or 403) says nothing of whether a topic exists.
    // Only the publish token reads private topics without a grant. On yes,
    // `expires_s` is when the token used stops being valid (if it does).
    bool authorize_subscribe(Connection& connection, const Request& request, std::span<const std::string> names,
                             std::optional<std::int64_t>& expires_s);
    // Ends the stream with a last retry: when its token expires (at
    // `expires_s`, wall clock), on the connection's own timer.
    void end_at(Connection& connection, std::int64_t expires_s);
    // The answers of the API, with the CORS headers of the request's
    // Origin (--cors-origin); a preflight allowing `methods`.
    void answer(Connection& connection, const Request& request, int status, std::string_view text);
    HeaderList cors_headers(const Request& request) const;
    void preflight(Connection& connection, const Request& request, std::string_view methods);
    const Access& access() const { return access_; }
    // This instance's Idempotency-Keys (without --redis) and how repeats
    // were answered, for /metrics.
    const IdempotencyStore& idempotency_keys() const { return local_keys_; }
    const IdempotencyStats& idempotency_stats() const { return idempotency_stats_; }

private:
    void subscribe_one(Connection& connection, const Request& request);
    void subscribe_many(Connection& connection, const Request& request);
    void subscribe(Connection& connection, const Request& request, std::vector<std::string> topics,
                   bool multi);
    // Answers a refusal of `access` (401 with WWW-Authenticate, or 403).
    void refuse(Connection& connection, const Request& request, const Access::Verdict& verdict);
    // What a POST /publish asks for, from its query. Every field also goes
    // into fingerprint_of(), so that a repeat differing in it is 422.
    struct PublishRequest {
        std::vector<std::string> topics;         // distinct, at most kMaxTopicsPerPublish
        std::string name;                        // ?event=, may be empty
        std::optional<std::uint32_t> retry_ms;   // ?retry=
        bool pause = false;                      // ?close=1
        std::optional<std::uint32_t> ttl_s;      // ?ttl=, 1 to kMaxEventTtlSeconds
    };
    // Answers 400 and returns nullopt unless every parameter is valid.
    std::optional<PublishRequest> publish_request(Connection& connection, const Request& request);
    void publish(Connection& connection, const Request& request, std::string_view body);
    // Publishes into the hub; returns the answer's JSON.
    std::string publish_locally(const PublishRequest& publish, std::string_view body);
    void end_topic(Connection& connection, const Request& request);

    // Answers 400 and returns nullopt unless ?topic= names a valid topic.
    std::optional<std::string> topic_param(Connection& connection, const Request& request);
    // The one way this API answers: every answer but a preflight goes out
    // through send(), which adds the CORS headers, so none can forget them.
    static void send(Connection& connection, const HeaderList& cors, Response response);
    void answer_json(Connection& connection, const Request& request, std::string json);
    // Gives the answer to a deferred request later, if its connection is
    // still open, with the CORS headers of the request.
    using Reply = std::function<void(Response)>;
    Reply defer(Connection& connection, const Request& request);
    void publish_through_redis(Connection& connection, const Request& request, const PublishRequest& publish,
                               std::string_view body, const std::optional<std::string>& key);
    // XADDs the event; `reply` gets the answer (also when the publisher has
    // gone, so that its key can be settled).
    void append_to_redis(const PublishRequest& publish, std::string_view body, Reply reply);

    // The answers' JSON, and a ttl's end, for both ways of publishing.
    // {"id":"<id>","queued":<n>[,"closed":<m>]}: "closed" counts the
    // streams a close=1 paused.
    static std::string publish_answer(EventId id, std::size_t queued, std::optional<std::size_t> closed);
    // {"topic":"<t>","ended_streams":<n>}: what DELETE answers.
    static std::string ended_answer(std::string_view topic, std::size_t ended);
    // The wall-clock ms at which an event published at `now_ms` with
    // `ttl_s` stops being replayed; none without a ttl.
    static std::optional<std::uint64_t> expiry(std::uint64_t now_ms, std::optional<std::uint32_t> ttl_s);

    // --- Through Redis, in pubsub_redis.cpp ---

    void end_topic_through_redis(Connection& connection, const Request& request, const std::string& topic);

    // --- Idempotency-Key, in pubsub_idempotency.cpp ---

    // Reads the request's Idempotency-Key into `key` (nullopt when it has
    // none). Answers 400 and returns false when it is malformed, too long
    // or sent twice.
    bool idempotency_key(Connection& connection, const Request& request, std::optional<std::string>& key);
    static Fingerprint fingerprint_of(const PublishRequest& publish, std::string_view body);
    // Publishes once per key into the hub: a repeat gets the first answer.
    void publish_once(Connection& connection, const Request& request, const PublishRequest& publish,
                      std::string_view body, const std::string& key);
    // The same through Redis, where the key is kept for every instance.
    void publish_once_through_redis(const PublishRequest& publish, std::string_view body, const std::string& key,
                                    Reply reply);
    // The answer to a repeat: the first answer again (Replay), 409 or 422.
    Response repeat_answer(IdempotencyOutcome outcome, const StoredAnswer& first);

    Server& server_;
    Hub& hub_;
    const Access& access_;
    CorsPolicy cors_;
    RedisBridge* redis_ = nullptr;
    IdempotencyStore local_keys_;
    std::optional<RedisIdempotency> redis_keys_;  // with --redis
    IdempotencyStats idempotency_stats_;
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
