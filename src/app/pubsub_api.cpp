#include "app/pubsub_api.h"

#include <algorithm>
#include <charconv>

#include "http/url.h"
#include "loop/event_loop.h"
#include "server/connection.h"
#include "server/server.h"
#include "sse/event_stream.h"
#include "sse/topic_pattern.h"

namespace sse {

namespace {

std::string_view header_value(const Request& request, std::string_view name) {
    const Header* header = request.find(name);
    return header ? header->value : std::string_view{};
}

}  // namespace

std::optional<EventId> resume_position(const Request& request) {
    if (const Header* header = request.find("Last-Event-ID")) return parse_event_id(header->value);
    if (std::optional<std::string> param = query_param(request.query, "lastEventId")) {
        return parse_event_id(*param);
    }
    return std::nullopt;
}

bool parse_topic_list(std::string_view list, std::vector<std::string>& topics, std::string& error) {
    topics.clear();
    std::size_t patterns = 0;
    while (true) {
        std::size_t comma = list.find(',');
        std::string_view name = list.substr(0, comma);
        if (!is_valid_pattern(name)) {
            error = "invalid topic name or pattern in type= (" + pattern_rule() + ")";
            return false;
        }
        if (std::find(topics.begin(), topics.end(), name) == topics.end()) {
            if (topics.size() == kMaxTopicsPerStream) {
                error = "too many topics in type= (at most " + std::to_string(kMaxTopicsPerStream) + ")";
                return false;
            }
            if (has_wildcard(name) && ++patterns > kMaxPatternsPerStream) {
                error = "too many patterns in type= (at most " + std::to_string(kMaxPatternsPerStream) + ")";
                return false;
            }
            topics.emplace_back(name);
        }
        if (comma == std::string_view::npos) return true;
        list.remove_prefix(comma + 1);
    }
}

bool constant_time_equals(std::string_view a, std::string_view b) {
    std::size_t length = std::max(a.size(), b.size());
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < length; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        difference |= static_cast<unsigned char>(x ^ y);
    }
    return difference == 0;
}

// {"topic":"<t>","ended_streams":<n>} and a newline: what DELETE answers.
std::string PubSubApi::ended_answer(std::string_view topic, std::size_t ended) {
    return "{\"topic\":\"" + std::string(topic) + "\",\"ended_streams\":" + std::to_string(ended) + "}\n";
}

// {"id":"<id>","queued":<n>[,"closed":<m>]} and a newline: what a
// publisher is answered; "closed" counts the streams a close=1 paused.
std::string PubSubApi::publish_answer(EventId id, std::size_t queued, std::optional<std::size_t> closed) {
    std::string json = "{\"id\":\"";
    json.reserve(64);
    json.append(id.to_string()).append("\",\"queued\":");
    append_decimal(json, queued);
    if (closed) append_decimal(json.append(",\"closed\":"), *closed);
    json.append("}\n");
    return json;
}

// The wall-clock ms at which an event published at `now_ms` with `ttl_s`
// stops being replayed; none without a ttl.
std::optional<std::uint64_t> PubSubApi::expiry(std::uint64_t now_ms, std::optional<std::uint32_t> ttl_s) {
    if (!ttl_s) return std::nullopt;
    return now_ms + std::uint64_t{*ttl_s} * 1000;
}

PubSubApi::PubSubApi(Server& server, Hub& hub, const Access& access)
    : server_(server), hub_(hub), access_(access), cors_(server.options().cors_origins) {}

void PubSubApi::install() {
    Router& router = server_.router();
    // Streams run past --max-conns too: a bad topic is still a 400 and an
    // ended one a 204 (the browser should stop), while a good request is
    // turned away with a retry: the browser follows (start_stream).
    router.add("GET", "/latest", [this](Connection& c, const Request& r, std::string_view) {
        subscribe_many(c, r);
    }, nullptr, AtCapacity::Serve);
    router.add_prefix("GET", "/latest/", [this](Connection& c, const Request& r, std::string_view) {
        subscribe_one(c, r);
    }, AtCapacity::Serve);
    router.add(
        "POST", "/publish", [this](Connection& c, const Request& r, std::string_view body) { publish(c, r, body); },
        [this](Connection& c, const Request& r) {
            std::optional<PublishRequest> publish = publish_request(c, r);
            std::optional<std::string> key;
            return publish && authorize_publish(c, r, publish->topics) && idempotency_key(c, r, key);
        });
    router.add("DELETE", "/publish", [this](Connection& c, const Request& r, std::string_view) {
        end_topic(c, r);
    });
    router.add_prefix("OPTIONS", "/latest", [this](Connection& c, const Request& r, std::string_view) {
        preflight(c, r, "GET");
    });
    router.add("OPTIONS", "/publish", [this](Connection& c, const Request& r, std::string_view) {
        preflight(c, r, "POST, DELETE");
    });
}

void PubSubApi::subscribe_one(Connection& connection, const Request& request) {
    std::optional<std::string> topic = percent_decode(request.path.substr(std::string_view("/latest/").size()));
    if (!topic || !is_valid_pattern(*topic)) {
        answer(connection, request, 400, "invalid topic name or pattern (" + pattern_rule() + ")");
        return;
    }
    bool pattern = has_wildcard(*topic);  // its events come from many topics: named
    subscribe(connection, request, {std::move(*topic)}, pattern);
}

void PubSubApi::subscribe_many(Connection& connection, const Request& request) {
    std::optional<std::string> list = query_param(request.query, "type");
    if (!list) {
        answer(connection, request, 400, "missing ?type=topic1,topic2");
        return;
    }
    std::vector<std::string> topics;
    std::string error;
    if (!parse_topic_list(*list, topics, error)) {
        answer(connection, request, 400, error);
        return;
    }
    subscribe(connection, request, std::move(topics), true);
}

void PubSubApi::subscribe(Connection& connection, const Request& request, std::vector<std::string> topics,
                          bool multi) {
    // Who may read comes first: a refusal must not tell whether a topic
    // exists, has ended or has subscribers.
    std::optional<std::int64_t> expires_s;
    if (!authorize_subscribe(connection, request, topics, expires_s)) return;
    std::size_t last_n = 0;
    if (std::optional<std::string> last = query_param(request.query, "last")) {
        std::size_t max = server_.options().history;
        auto [end, ec] = std::from_chars(last->data(), last->data() + last->size(), last_n);
        if (ec != std::errc{} || end != last->data() + last->size() || last_n < 1 || last_n > max) {
            answer(connection, request, 400,
                   "last= must be a whole number of events from 1 to " + std::to_string(max) + " (--history)");
            return;
        }
    }
    hub_.expire(wall_clock_ms());  // the hub has no clock: nothing expired is replayed
    if (hub_.all_ended(topics)) {
        // 204 is how a server tells EventSource to stop reconnecting.
        Response response;
        response.status = 204;
        send(connection, cors_headers(request), std::move(response));
        return;
    }
    // HEAD (the head was enough), or turned away for now: no subscription.
    if (!connection.start_stream(cors_headers(request))) return;
    Hub::Subscription* subscription =
        hub_.subscribe(connection, std::move(topics), multi, resume_position(request), last_n);
    connection.set_on_close([this, subscription] { hub_.unsubscribe(subscription); });
    if (expires_s) end_at(connection, *expires_s);
}

bool PubSubApi::authorize_subscribe(Connection& connection, const Request& request,
                                    std::span<const std::string> names, std::optional<std::int64_t>& expires_s) {
    // Being on loopback is not enough to read a private topic: behind a
    // proxy every browser is on loopback.
    expires_s.reset();
    if (carries_publish_token(request)) return true;
    Access::Verdict verdict = access_.may_subscribe(request, names, wall_clock_s());
    if (verdict.status != 0) {
        refuse(connection, request, verdict);
        return false;
    }
    expires_s = verdict.expires_s;
    return true;
}

void PubSubApi::end_at(Connection& connection, std::int64_t expires_s) {
    // The token stops being valid: a last retry: and a close. The browser
    // comes back with the cookie its page has renewed meanwhile and resumes
    // with Last-Event-ID; with none, it gets 401 and stops. The timer is
    // the connection's own, cancelled if it closes first.
    std::int64_t delay_ms = expires_s * 1000 - static_cast<std::int64_t>(wall_clock_ms());
    connection.timer() = server_.loop().add_timer(std::max<std::int64_t>(0, delay_ms),
                                                  [&connection] { connection.pause(std::nullopt); });
}

void PubSubApi::refuse(Connection& connection, const Request& request, const Access::Verdict& verdict) {
    Response response = Response::text(verdict.status, verdict.reason);
    if (verdict.status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
    send(connection, cors_headers(request), std::move(response));
}

std::optional<PubSubApi::PublishRequest> PubSubApi::publish_request(Connection& connection,
                                                                     const Request& request) {
    PublishRequest publish;
    std::optional<std::vector<std::string>> topics = query_params(request.query, "topic");
    if (!topics || topics->empty() ||
        !std::all_of(topics->begin(), topics->end(), [](const std::string& t) { return is_valid_topic(t); })) {
        answer(connection, request, 400, "?topic= must name a topic (" + topic_name_rule() + "), once or more");
        return std::nullopt;
    }
    for (std::string& topic : *topics) {
        if (std::find(publish.topics.begin(), publish.topics.end(), topic) != publish.topics.end()) continue;
        if (publish.topics.size() == kMaxTopicsPerPublish) {
            answer(connection, request, 400,
                   "too many topics in one publish (at most " + std::to_string(kMaxTopicsPerPublish) + ")");
            return std::nullopt;
        }
        publish.topics.push_back(std::move(topic));
    }
    if (std::optional<std::string> event = query_param(request.query, "event")) {
        if (!is_valid_topic(*event)) {
            answer(connection, request, 400, "invalid event name (" + topic_name_rule() + ")");
            return std::nullopt;
        }
        publish.name = std::move(*event);
    }
    if (std::optional<std::string> retry = query_param(request.query, "retry")) {
        std::uint32_t ms = 0;
        auto [end, ec] = std::from_chars(retry->data(), retry->data() + retry->size(), ms);
        if (ec != std::errc{} || end != retry->data() + retry->size() || ms < kMinRetryMs || ms > kMaxRetryMs) {
            answer(connection, request, 400,
                   "retry= must be a whole number of milliseconds from " + std::to_string(kMinRetryMs) + " to " +
                       std::to_string(kMaxRetryMs));
            return std::nullopt;
        }
        publish.retry_ms = ms;
    }
    if (std::optional<std::string> close = query_param(request.query, "close")) {
        if (*close != "1") {
            answer(connection, request, 400, "close= takes only 1 (close the topic's streams after this event)");
            return std::nullopt;
        }
        publish.pause = true;
    }
    if (std::optional<std::string> ttl = query_param(request.query, "ttl")) {
        std::uint32_t seconds = 0;
        auto [end, ec] = std::from_chars(ttl->data(), ttl->data() + ttl->size(), seconds);
        if (ec != std::errc{} || end != ttl->data() + ttl->size() || seconds < 1 || seconds > kMaxEventTtlSeconds) {
            answer(connection, request, 400,
                   "ttl= must be a whole number of seconds from 1 to " + std::to_string(kMaxEventTtlSeconds));
            return std::nullopt;
        }
        publish.ttl_s = seconds;
    }
    return publish;
}

void PubSubApi::publish(Connection& connection, const Request& request, std::string_view body) {
    std::optional<PublishRequest> publish = publish_request(connection, request);
    if (!publish || !authorize_publish(connection, request, publish->topics)) return;
    if (!is_valid_utf8(body)) {
        answer(connection, request, 400, "event data must be UTF-8");
        return;
    }
    std::optional<std::string> key;
    if (!idempotency_key(connection, request, key)) return;
    if (redis_) {
        publish_through_redis(connection, request, *publish, body, key);
        return;
    }
    if (key) {
        publish_once(connection, request, *publish, body, *key);
        return;
    }
    answer_json(connection, request, publish_locally(*publish, body));
}

std::string PubSubApi::publish_locally(const PublishRequest& publish, std::string_view body) {
    std::uint64_t now_ms = wall_clock_ms();
    Hub::Published published = hub_.publish(publish.topics, publish.name, body, now_ms, publish.retry_ms,
                                            expiry(now_ms, publish.ttl_s));
    std::optional<std::size_t> paused;
    if (publish.pause) {
        std::vector<std::string_view> names(publish.topics.begin(), publish.topics.end());
        paused = hub_.pause_topics(names, publish.retry_ms);
    }
    return publish_answer(published.id, published.queued, paused);
}

PubSubApi::Reply PubSubApi::defer(Connection& connection, const Request& request) {
    connection.defer();
    return [this, handle = connection.handle(), cors = cors_headers(request)](Response response) {
        if (Connection* waiting = server_.find(handle)) send(*waiting, cors, std::move(response));
    };
}

void PubSubApi::end_topic(Connection& connection, const Request& request) {
    std::optional<std::string> topic = topic_param(connection, request);
    if (!topic || !authorize_publish(connection, request, std::span(&*topic, 1))) return;
    if (redis_) {
        end_topic_through_redis(connection, request, *topic);
        return;
    }
    answer_json(connection, request, ended_answer(*topic, hub_.end_topic(*topic)));
}

void PubSubApi::preflight(Connection& connection, const Request& request, std::string_view methods) {
    Response response;
    response.status = 204;
    response.headers = cors_.preflight_headers(header_value(request, "Origin"), methods);
    response.headers.emplace_back("Allow", std::string(methods) + ", OPTIONS");
    connection.respond(std::move(response));
}

bool PubSubApi::carries_publish_token(const Request& request) const {
    const std::string& token = server_.options().publish_token;
    if (token.empty()) return false;
    std::string_view given = header_value(request, "Authorization");
    constexpr std::string_view kScheme = "Bearer ";
    return given.size() > kScheme.size() && iequals(given.substr(0, kScheme.size()), kScheme) &&
           constant_time_equals(given.substr(kScheme.size()), token);
}

bool PubSubApi::is_operator(const Connection& connection, const Request& request) const {
    if (server_.options().publish_token.empty()) return connection.peer().is_loopback();
    return carries_publish_token(request);
}

bool PubSubApi::authorize(Connection& connection, const Request& request) {
    if (is_operator(connection, request)) return true;
    if (!server_.options().publish_token.empty()) {
        refuse(connection, request, {401, "publishing needs Authorization: Bearer <token>", std::nullopt});
    } else {
        answer(connection, request, 403, "publishing is only allowed from loopback unless --publish-token is set");
    }
    return false;
}

bool PubSubApi::authorize_publish(Connection& connection, const Request& request,
                                  std::span<const std::string> topics) {
    if (is_operator(connection, request)) return true;
    // A token whose publish patterns cover every topic may publish.
    if (access_.enabled() && access_.token_of(request)) {
        Access::Verdict verdict = access_.may_publish_by_token(request, topics, wall_clock_s());
        if (verdict.status == 0) return true;
        refuse(connection, request, verdict);
        return false;
    }
    return authorize(connection, request);
}

std::optional<std::string> PubSubApi::topic_param(Connection& connection, const Request& request) {
    std::optional<std::string> topic = query_param(request.query, "topic");
    if (!topic || !is_valid_topic(*topic)) {
        answer(connection, request, 400, "?topic= must name a topic (" + topic_name_rule() + ")");
        return std::nullopt;
    }
    return topic;
}

HeaderList PubSubApi::cors_headers(const Request& request) const {
    return cors_.response_headers(header_value(request, "Origin"));
}

void PubSubApi::send(Connection& connection, const HeaderList& cors, Response response) {
    response.headers.insert(response.headers.end(), cors.begin(), cors.end());
    connection.respond(std::move(response));
}

void PubSubApi::answer(Connection& connection, const Request& request, int status, std::string_view text) {
    send(connection, cors_headers(request), Response::text(status, text));
}

void PubSubApi::answer_json(Connection& connection, const Request& request, std::string json) {
    Response response;
    response.content_type = "application/json";
    response.body = std::move(json);
    send(connection, cors_headers(request), std::move(response));
}

}  // namespace sse
