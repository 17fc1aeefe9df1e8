#include "app/status_api.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>
#include <vector>

#include "app/presence_api.h"

#include "app/pubsub_api.h"
#include "http/url.h"
#include "loop/event_loop.h"
#include "redis/redis_bridge.h"
#include "server/connection.h"
#include "server/server.h"
#include "sse/hub.h"

namespace sse {

namespace {

// Appends one metric family: its HELP and TYPE lines, then its samples.
class MetricsWriter {
public:
    void family(const char* name, const char* type, const char* help) {
        text_ += "# HELP ";
        text_ += name;
        text_ += ' ';
        text_ += help;
        text_ += "\n# TYPE ";
        text_ += name;
        text_ += ' ';
        text_ += type;
        text_ += '\n';
    }
    void sample(const char* name, double value, const std::string& labels = "") {
        char number[64];
        std::snprintf(number, sizeof number, "%.17g", value);
        text_ += name;
        if (!labels.empty()) text_ += "{" + labels + "}";
        text_ += ' ';
        text_ += number;
        text_ += '\n';
    }
    void single(const char* name, const char* type, const char* help, double value) {
        family(name, type, help);
        sample(name, value);
    }
    std::string take() { return std::move(text_); }

private:
    std::string text_;
};

}  // namespace

std::size_t resident_memory_bytes() {
    std::FILE* file = std::fopen("/proc/self/statm", "r");
    if (!file) return 0;
    unsigned long size = 0, resident = 0;
    int read = std::fscanf(file, "%lu %lu", &size, &resident);
    std::fclose(file);
    return read == 2 ? resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

StatusApi::StatusApi(Server& server, Hub& hub, PubSubApi& pubsub, const RedisBridge* redis)
    : server_(server), hub_(hub), pubsub_(pubsub), redis_(redis), cors_(server.options().cors_origins) {}

void StatusApi::install() {
    Router& router = server_.router();
    router.add("GET", "/healthz", [this](Connection& c, const Request& r, std::string_view) {
        // Without its Redis link an instance can neither publish nor hear
        // other instances: a load balancer should send clients elsewhere.
        if (redis_ && !redis_->up()) send(c, r, Response::text(503, "redis unavailable"));
        else send(c, r, Response::text(200, "ok"));
    }, nullptr, AtCapacity::Serve);  // load balancers probe exactly when a server is full
    router.add("GET", "/metrics", [this](Connection& c, const Request& r, std::string_view) {
        // The hub has no clock: events whose ttl has passed are forgotten
        // before anything counts what history holds.
        hub_.expire(wall_clock_ms());
        Response response;
        response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        response.body = render_metrics();
        send(c, r, std::move(response));
    });
    router.add("GET", "/topics", [this](Connection& c, const Request& r, std::string_view) { topics(c, r); });
    router.add_prefix("GET", "/topics/", [this](Connection& c, const Request& r, std::string_view) {
        one_topic(c, r);
    });
    // /topics may need Authorization, which a browser asks leave for first.
    router.add_prefix("OPTIONS", "/topics", [this](Connection& c, const Request& r, std::string_view) {
        const Header* origin = r.find("Origin");
        Response response;
        response.status = 204;
        response.headers = cors_.preflight_headers(origin ? origin->value : std::string_view{}, "GET");
        response.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
        c.respond(std::move(response));
    });
}

void StatusApi::send(Connection& connection, const Request& request, Response response) const {
    const Header* origin = request.find("Origin");
    HeaderList cors = cors_.response_headers(origin ? origin->value : std::string_view{});
    response.headers.insert(response.headers.end(), cors.begin(), cors.end());
    connection.respond(std::move(response));
}

std::string StatusApi::topic_json(const std::string& topic) const {
    const History& history = hub_.history();
    std::optional<EventId> last = history.newest(topic);
    return "{\"topic\":\"" + topic + "\",\"subscribers\":" + std::to_string(hub_.subscribers(topic)) +
           ",\"last_id\":" + (last ? "\"" + last->to_string() + "\"" : std::string("null")) +
           ",\"events\":" + std::to_string(history.events_of(topic)) +
           ",\"bytes\":" + std::to_string(history.bytes_of(topic)) + "}";
}

bool StatusApi::may_list(Connection& connection, const Request& request, bool& everything) {
    // The operator sees every topic; a token holder, the topics its grant
    // (or --public) lets it read, and no other name; anyone else is refused.
    everything = pubsub_.is_operator(connection, request);
    if (everything || (pubsub_.access().enabled() && pubsub_.access().token_of(request))) return true;
    return pubsub_.authorize(connection, request);  // answers 401 or 403
}

void StatusApi::topics(Connection& connection, const Request& request) {
    bool everything = false;
    if (!may_list(connection, request, everything)) return;
    hub_.expire(wall_clock_ms());
    std::set<std::string> all;
    for (std::string& name : hub_.topic_names()) all.insert(std::move(name));
    for (std::string& name : hub_.history().topic_names()) all.insert(std::move(name));
    std::vector<std::string> names(all.begin(), all.end());
    if (!everything) names = pubsub_.access().readable(request, std::move(names), wall_clock_s());
    std::string json = "[";
    for (const std::string& name : names) {
        if (json.size() > 1) json += ",";
        json += topic_json(name);
    }
    json += "]\n";
    Response response;
    response.content_type = "application/json";
    response.body = std::move(json);
    send(connection, request, std::move(response));
}

void StatusApi::one_topic(Connection& connection, const Request& request) {
    bool everything = false;
    if (!may_list(connection, request, everything)) return;
    std::optional<std::string> topic = percent_decode(request.path.substr(std::string_view("/topics/").size()));
    if (!topic || !is_valid_topic(*topic)) {
        send(connection, request, Response::text(400, "invalid topic name (" + topic_name_rule() + ")"));
        return;
    }
    // Refused alike whether or not the topic exists.
    if (!everything && pubsub_.access().readable(request, {*topic}, wall_clock_s()).empty()) {
        send(connection, request, Response::text(403, "the token does not grant this topic"));
        return;
    }
    hub_.expire(wall_clock_ms());
    if (hub_.subscribers(*topic) == 0 && hub_.history().events_of(*topic) == 0) {
        send(connection, request, Response::text(404, "no such topic: nobody subscribes and no history is held"));
        return;
    }
    Response response;
    response.content_type = "application/json";
    response.body = topic_json(*topic) + "\n";
    send(connection, request, std::move(response));
}

std::string StatusApi::render_metrics() const {
    const ServerStats& s = server_.stats();
    const HubStats& h = hub_.stats();
    MetricsWriter m;

    std::size_t streams = server_.stream_count();
    m.family("sse_connections", "gauge", "Open connections by kind.");
    m.sample("sse_connections", static_cast<double>(streams), "kind=\"stream\"");
    m.sample("sse_connections", static_cast<double>(server_.connection_count() - streams), "kind=\"request\"");
    m.single("sse_connections_max", "gauge", "The connection limit (--max-conns).",
             static_cast<double>(server_.max_connections()));

    // Streams per topic: the busiest by name, the rest summed, so a client
    // inventing topic names cannot grow this page without bound.
    std::vector<std::pair<std::size_t, std::string>> by_size;
    // Private topics are never named here: /metrics answers anyone.
    const Access& access = pubsub_.access();
    std::size_t hidden = 0;
    for (std::string& name : hub_.topic_names()) {
        if (access.is_public(name)) by_size.emplace_back(hub_.subscribers(name), std::move(name));
        else hidden += hub_.subscribers(name);
    }
    std::sort(by_size.begin(), by_size.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    m.family("sse_topic_subscribers", "gauge", "Subscribed streams of the busiest topics.");
    std::size_t other = hidden;
    for (std::size_t i = 0; i < by_size.size(); ++i) {
        if (i < kMetricsTopTopics) m.sample("sse_topic_subscribers", static_cast<double>(by_size[i].first),
                                            "topic=\"" + by_size[i].second + "\"");
        else other += by_size[i].first;
    }
    m.single("sse_other_topics_subscribers", "gauge", "Subscribed streams of the topics not listed by name.",
             static_cast<double>(other));
    m.single("sse_topics", "gauge", "Topics with subscribers, ended, or watched by presence streams.", static_cast<double>(hub_.topic_count()));

    m.single("sse_events_published_total", "counter", "Events published.", static_cast<double>(h.published));
    m.single("sse_events_delivered_total", "counter", "Events queued to streams, live and replayed.",
             static_cast<double>(h.delivered));
    m.single("sse_replays_total", "counter", "Subscriptions that replayed missed events.", static_cast<double>(h.replays));
    m.single("sse_resets_total", "counter", "event: reset sent to resuming clients.", static_cast<double>(h.resets));
    m.single("sse_bytes_written_total", "counter", "Bytes written to sockets.", static_cast<double>(s.bytes_written));
    m.single("sse_bytes_read_total", "counter", "Bytes read from client sockets.",
             static_cast<double>(s.bytes_read));
    const IdempotencyStats& repeats = pubsub_.idempotency_stats();
    m.family("sse_idempotent_repeats_total", "counter",
             "Publishes whose Idempotency-Key was known: answered again, 409 in flight, 422 another request.");
    m.sample("sse_idempotent_repeats_total", static_cast<double>(repeats.replayed), "answer=\"replayed\"");
    m.sample("sse_idempotent_repeats_total", static_cast<double>(repeats.in_flight), "answer=\"in_flight\"");
    m.sample("sse_idempotent_repeats_total", static_cast<double>(repeats.mismatched), "answer=\"mismatch\"");
    const IdempotencyStore& keys = pubsub_.idempotency_keys();
    m.single("sse_idempotency_keys", "gauge", "Idempotency-Keys remembered here (without --redis).",
             static_cast<double>(keys.keys()));
    m.single("sse_idempotency_bytes", "gauge", "Bytes charged for the Idempotency-Keys remembered here.",
             static_cast<double>(keys.bytes()));
    m.single("sse_idempotency_evictions_total", "counter",
             "Idempotency-Keys forgotten before their window ended, past kMaxIdempotencyKeys or kMaxIdempotencyBytes.",
             static_cast<double>(keys.evictions()));
    m.single("sse_deferred_input_pauses_total", "counter",
             "Times a connection stopped reading: over kMaxDeferredInputBytes waited behind a deferred answer.",
             static_cast<double>(s.deferred_input_pauses));
    m.single("sse_connections_accepted_total", "counter", "Connections accepted.",
             static_cast<double>(s.connections_accepted));
    m.single("sse_requests_total", "counter", "HTTP requests handled.", static_cast<double>(s.requests));
    m.single("sse_heartbeats_total", "counter", "Heartbeat comments sent.", static_cast<double>(s.heartbeats));
    m.single("sse_slow_subscriber_drops_total", "counter", "Streams closed for passing --max-buffer.",
             static_cast<double>(s.slow_subscriber_drops));
    m.single("sse_connections_refused_total", "counter", "Connections refused past --max-conns (503, a stream turned away, or closed unread).",
             static_cast<double>(s.refused_at_limit));
    m.single("sse_streams_aged_out_total", "counter", "Streams ended by --max-stream-age.",
             static_cast<double>(s.streams_aged_out));

    m.family("sse_timeouts_total", "counter", "Connections closed by a timeout, by kind.");
    m.sample("sse_timeouts_total", static_cast<double>(s.timeouts_header), "kind=\"header\"");
    m.sample("sse_timeouts_total", static_cast<double>(s.timeouts_body), "kind=\"body\"");
    m.sample("sse_timeouts_total", static_cast<double>(s.timeouts_idle), "kind=\"idle\"");
    m.sample("sse_timeouts_total", static_cast<double>(s.timeouts_drain), "kind=\"drain\"");

    m.family("sse_responses_total", "counter", "HTTP responses by status class.");
    for (int c = 1; c <= 5; ++c) {
        m.sample("sse_responses_total", static_cast<double>(s.responses_by_class[c]),
                 "class=\"" + std::to_string(c) + "xx\"");
    }

    const History& history = hub_.history();
    m.single("sse_history_events", "gauge", "Events held for replay.", static_cast<double>(history.events()));
    m.single("sse_history_bytes", "gauge", "Bytes of events held for replay.", static_cast<double>(history.bytes()));
    m.single("sse_history_evictions_total", "counter", "Events dropped from history by its limits.",
             static_cast<double>(history.evictions()));
    m.single("sse_history_expired_total", "counter", "Events dropped from history when their ttl= passed.",
             static_cast<double>(history.expirations()));
    if (presence_) {
        m.single("sse_presence_streams", "gauge", "Open presence streams (GET /presence).",
                 static_cast<double>(presence_->watchers()));
        m.single("sse_presence_watched_topics", "gauge",
                 "Distinct topics presence streams watch here (at most kMaxWatchedTopics).",
                 static_cast<double>(presence_->watched_topics()));
        m.single("sse_presence_events_total", "counter", "Presence events queued to streams.",
                 static_cast<double>(presence_->stats().events));
        if (redis_) {
            m.single("sse_presence_exchanges_total", "counter", "Presence counts exchanged through Redis.",
                     static_cast<double>(presence_->stats().exchanges));
            m.single("sse_presence_exchange_failures_total", "counter", "Presence exchanges Redis did not answer.",
                     static_cast<double>(presence_->stats().exchange_failures));
        }
    }
    m.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
             static_cast<double>(resident_memory_bytes()));
    m.single("sse_loop_busy_seconds_total", "counter", "Time the event loop spent outside epoll_wait.",
             static_cast<double>(server_.loop().busy_ns()) / 1e9);
    if (redis_) {
        m.single("sse_redis_up", "gauge", "1 while both Redis links are up and history is loaded.",
                 redis_->up() ? 1.0 : 0.0);
        m.single("sse_redis_reconnects_total", "counter", "Redis links re-established.",
                 static_cast<double>(redis_->reconnects()));
        m.single("sse_redis_appended_total", "counter", "Events appended to the Redis Stream.",
                 static_cast<double>(redis_->stats().appended));
        m.single("sse_redis_publish_failures_total", "counter", "Publishes answered 503 because Redis failed.",
                 static_cast<double>(redis_->stats().failed));
        m.single("sse_redis_read_total", "counter", "Entries read from the Redis Stream.",
                 static_cast<double>(redis_->stats().read));
    }
    return m.take();
}

}  // namespace sse
