// PubSubApi through Redis (--redis): a publish and the end of a topic are
// appended to the shared stream, answered once Redis has taken them, and
// delivered by every instance (this one too) when its reader meets the
// entry. Never a silent drop: when Redis is unavailable or refuses, the
// publisher gets 503 with Retry-After.
#include "app/pubsub_api.h"
#include "loop/event_loop.h"
#include "redis/redis_bridge.h"
#include "server/connection.h"
#include "server/server.h"

namespace sse {

void PubSubApi::use_redis(RedisBridge* bridge) {
    redis_ = bridge;
    // Keys live beside the stream, named after it, so that deployments
    // sharing one Redis with different --redis-key never meet.
    redis_keys_.emplace(*bridge, server_.loop(), bridge->key() + ":idempotency:");
}

void PubSubApi::publish_through_redis(Connection& connection, const Request& request, const PublishRequest& publish,
                                      std::string_view body, const std::optional<std::string>& key) {
    if (!redis_->up()) {
        // Never a silent drop: the publisher learns the event was not taken.
        Response response = Response::text(503, "redis is unavailable: the event was not published, try again");
        response.headers.emplace_back("Retry-After", "1");
        send(connection, cors_headers(request), std::move(response));
        return;
    }
    Reply reply = defer(connection, request);
    if (key) publish_once_through_redis(publish, body, *key, std::move(reply));
    else append_to_redis(publish, body, std::move(reply));
}

void PubSubApi::append_to_redis(const PublishRequest& publish, std::string_view body, Reply reply) {
    // Every instance (this one too) delivers the event, and pauses the
    // topic, when its reader meets the entry: the counts answered here are
    // this instance's streams at the time of the answer. A publisher that
    // left is not answered, but the event stands.
    redis_->publish(publish.topics, publish.name, body, publish.retry_ms, expiry(wall_clock_ms(), publish.ttl_s),
                    publish.pause,
                    [this, topics = publish.topics, pause = publish.pause, reply = std::move(reply)](
                        std::optional<EventId> id, const std::string& error) {
                        Response response;
                        if (id) {
                            std::size_t streams = 0;
                            for (const std::string& topic : topics) streams += hub_.subscribers(topic);
                            response.content_type = "application/json";
                            response.body = publish_answer(*id, streams, pause ? std::optional(streams) : std::nullopt);
                        } else {
                            response = Response::text(503, "redis did not take the event: " + error);
                            response.headers.emplace_back("Retry-After", "1");
                        }
                        reply(std::move(response));
                    });
}

void PubSubApi::end_topic_through_redis(Connection& connection, const Request& request, const std::string& topic) {
    // With Redis the end travels like an event, so every instance ends the
    // topic (this one too, when its reader meets the entry).
    HeaderList cors = cors_headers(request);
    if (!redis_->up()) {
        Response response = Response::text(503, "redis is unavailable: the topic was not ended, try again");
        response.headers.emplace_back("Retry-After", "1");
        send(connection, std::move(cors), std::move(response));
        return;
    }
    connection.defer();
    Connection::Handle handle = connection.handle();
    redis_->end_topic(topic, [this, handle, topic, cors = std::move(cors)](std::optional<EventId> id,
                                                                                      const std::string& error) {
        Connection* waiting = server_.find(handle);
        if (!waiting) return;
        Response response;
        if (id) {
            response.content_type = "application/json";
            response.body = ended_answer(topic, hub_.subscribers(topic));  // this instance's, as for publishing
        } else {
            response = Response::text(503, "redis did not take the end of the topic: " + error);
            response.headers.emplace_back("Retry-After", "1");
        }
        send(*waiting, cors, std::move(response));
    });
}


}  // namespace sse
