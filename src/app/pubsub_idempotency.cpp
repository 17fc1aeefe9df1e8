// PubSubApi, the Idempotency-Key half of POST /publish: reading the key,
// the request's fingerprint, and publishing once per key, into the hub or
// through Redis. The rules and the limits are in app/idempotency.h.
#include <algorithm>

#include "app/pubsub_api.h"
#include "http/http_parser.h"
#include "loop/event_loop.h"
#include "redis/redis_bridge.h"
#include "server/connection.h"
#include "server/server.h"

namespace sse {

namespace {

constexpr std::string_view kKeyField = "Idempotency-Key";

}  // namespace

bool PubSubApi::idempotency_key(Connection& connection, const Request& request, std::optional<std::string>& key) {
    key.reset();
    const Header* field = nullptr;
    for (std::size_t i = 0; i < request.header_count; ++i) {
        if (!iequals(request.headers[i].name, kKeyField)) continue;
        if (field) {
            answer(connection, request, 400, "one Idempotency-Key field at most");
            return false;
        }
        field = &request.headers[i];
    }
    if (!field) return true;
    std::string error;
    key = parse_idempotency_key(field->value, error);
    if (!key) answer(connection, request, 400, error);
    return key.has_value();
}

Fingerprint PubSubApi::fingerprint_of(const PublishRequest& publish, std::string_view body) {
    // The topics sorted: the same set of topics is the same request.
    std::vector<std::string_view> topics(publish.topics.begin(), publish.topics.end());
    std::sort(topics.begin(), topics.end());
    FingerprintBuilder fingerprint;
    for (std::string_view topic : topics) fingerprint.add("topic", topic);
    fingerprint.add("event", publish.name);
    fingerprint.add("retry", publish.retry_ms ? std::to_string(*publish.retry_ms) : std::string());
    fingerprint.add("close", publish.pause ? "1" : "");
    fingerprint.add("ttl", publish.ttl_s ? std::to_string(*publish.ttl_s) : std::string());
    return fingerprint.add("data", body).finish();
}

void PubSubApi::publish_once(Connection& connection, const Request& request, const PublishRequest& publish,
                             std::string_view body, const std::string& key) {
    // Publishing into the hub is synchronous: a key is never seen in
    // flight here, so a repeat is either the first answer or 422.
    StoredAnswer first;
    Fingerprint fingerprint = fingerprint_of(publish, body);
    IdempotencyOutcome outcome = local_keys_.begin(key, fingerprint, server_.loop().now(), first);
    if (outcome != IdempotencyOutcome::Proceed) {
        send(connection, cors_headers(request), repeat_answer(outcome, first));
        return;
    }
    std::string json = publish_locally(publish, body);
    local_keys_.settle(key, StoredAnswer{200, json});
    answer_json(connection, request, std::move(json));
}

void PubSubApi::publish_once_through_redis(const PublishRequest& publish, std::string_view body,
                                           const std::string& key, Reply reply) {
    // The XADD waits for the claim, so the request is copied into it.
    Fingerprint fingerprint = fingerprint_of(publish, body);
    redis_keys_->claim(
        key, fingerprint,
        [this, publish, body = std::string(body), key, fingerprint, reply](const RedisIdempotency::Claim& claim) {
            if (!claim.outcome) {
                Response response = Response::text(503, "redis did not take the Idempotency-Key: " + claim.error);
                response.headers.emplace_back("Retry-After", "1");
                reply(std::move(response));
                return;
            }
            if (*claim.outcome != IdempotencyOutcome::Proceed) {
                reply(repeat_answer(*claim.outcome, claim.answer));
                return;
            }
            // Published and settled even if the publisher has gone
            // meanwhile: its request was whole, and its retry is the one
            // that needs the answer.
            append_to_redis(publish, body, [this, key, fingerprint, reply](Response response) {
                if (response.status == 200) redis_keys_->settle(key, fingerprint, {200, response.body});
                else redis_keys_->release(key);
                reply(std::move(response));
            });
        });
}

Response PubSubApi::repeat_answer(IdempotencyOutcome outcome, const StoredAnswer& first) {
    if (outcome == IdempotencyOutcome::InFlight) {
        ++idempotency_stats_.in_flight;
        Response response = Response::text(409, "a request with this Idempotency-Key is still in progress: "
                                                 "try again once it is answered");
        response.headers.emplace_back("Retry-After", "1");
        return response;
    }
    if (outcome == IdempotencyOutcome::Mismatch) {
        ++idempotency_stats_.mismatched;
        return Response::text(422, "this Idempotency-Key was used for a different request (topics, event, "
                                   "retry, close, ttl or body): nothing was published");
    }
    ++idempotency_stats_.replayed;
    Response response;
    response.status = first.status;
    response.content_type = "application/json";
    response.body = first.body;
    // Not in the draft; Stripe's name for the same fact. The body and the
    // status are the first answer's.
    response.headers.emplace_back("Idempotent-Replayed", "true");
    return response;
}

}  // namespace sse
