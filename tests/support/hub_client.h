// Clients for the hub tests: a subscriber that knows the server has
// registered it, a publisher on one keep-alive connection, and readers for
// the ids and JSON the hub answers with.
//
// A subscriber is registered once its stream's first line, "retry: N", has
// arrived: the server queues the head and that line in the same step that
// adds the subscription. So a publish sent after the constructor returns is
// never published "too early". Every wait is deadline-guarded
// (kGuardTimeout); deadlines are never asserted on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "client.h"
#include "sse_reader.h"

namespace sse::test {

// An event id "<ms>-<seq>" as a pair that compares in id order. Throws
// std::runtime_error when `id` does not have that shape.
std::pair<std::uint64_t, std::uint64_t> event_id_key(const std::string& id);

// The value of `key` in a flat JSON object: a string without its quotes, or
// a number or `null` as written; "" when the key is absent. (A string, not
// an optional, so that a failed check prints it.)
std::string json_field(const std::string& json, const std::string& key);

// The event's id, or "(none)" when its block had no id line; a string, so
// that a failed check prints it.
std::string id_of(const SseEvent& event);

class HubSubscriber {
public:
    // Connects, sends `GET target` with `extra_headers` (each line ending in
    // "\r\n") and reads the response head; for a 200 it also waits for the
    // stream's first line, which must be "retry: N" (else it throws).
    HubSubscriber(std::uint16_t port, const std::string& target, const std::string& extra_headers = "");
    HubSubscriber(const HubSubscriber&) = delete;
    HubSubscriber& operator=(const HubSubscriber&) = delete;

    const Response& head() const { return head_; }
    // N from the "retry: N" line that opened the stream; -1 unless 200.
    long first_retry_ms() const { return first_retry_ms_; }

    // The next event, or nullopt when the server ends the stream first.
    // Throws TimeoutError at `deadline`.
    std::optional<SseEvent> next_event(Deadline deadline = deadline_in(kGuardTimeout));
    // Like next_event, but a missing event (end of stream) throws.
    SseEvent next();

    Connection& conn() { return conn_; }
    SseReader& reader() { return reader_; }

private:
    Connection conn_;
    Response head_;
    SseReader reader_;
    long first_retry_ms_ = -1;
};

// Publishes over one keep-alive connection, as a backend would.
class HubPublisher {
public:
    // `extra_headers` (e.g. an Authorization line) go on every request.
    explicit HubPublisher(std::uint16_t port, std::string extra_headers = "");

    // POST /publish?topic=T[&event=E] with `body`; returns the answer as is.
    Response post(const std::string& topic, const std::string& body, const std::string& event = "");
    // post(), then the id of the event; throws std::runtime_error unless the
    // answer is 200 with an id.
    std::string publish(const std::string& topic, const std::string& body, const std::string& event = "");

private:
    Connection conn_;
    std::string extra_headers_;
};

}  // namespace sse::test
