#include "hub_client.h"

#include <stdexcept>

namespace sse::test {

std::pair<std::uint64_t, std::uint64_t> event_id_key(const std::string& id) {
    std::size_t dash = id.find('-');
    bool digits_only = !id.empty() && id.find_first_not_of("0123456789-") == std::string::npos;
    if (!digits_only || dash == 0 || dash == std::string::npos || dash + 1 == id.size() ||
        id.find('-', dash + 1) != std::string::npos) {
        throw std::runtime_error("not an event id: \"" + id + "\"");
    }
    return {std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1))};
}

std::string json_field(const std::string& json, const std::string& key) {
    const std::string quoted_key = "\"" + key + "\":";
    std::size_t at = json.find(quoted_key);
    if (at == std::string::npos) return "";
    std::size_t start = at + quoted_key.size();
    if (start < json.size() && json[start] == '"') {
        std::size_t end = json.find('"', start + 1);
        if (end == std::string::npos) return "";
        return json.substr(start + 1, end - start - 1);
    }
    std::size_t end = json.find_first_of(",}", start);
    return json.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string id_of(const SseEvent& event) { return event.id.value_or("(none)"); }

HubSubscriber::HubSubscriber(std::uint16_t port, const std::string& target, const std::string& extra_headers)
    : conn_(Connection::open(port)),
      head_(sse::test::exchange(conn_, make_request("GET", target, extra_headers))),
      reader_(conn_) {
    if (head_.status != 200) return;
    // The line stays in conn_.input(): the reader records it as retry().
    auto has_first_line = [](const std::string& in) { return in.find('\n') != std::string::npos; };
    if (!conn_.receive_until(has_first_line, deadline_in(kGuardTimeout)) ||
        !conn_.input().starts_with("retry: ")) {
        throw std::runtime_error("stream does not begin with a retry: line: " + conn_.input().substr(0, 80));
    }
    first_retry_ms_ = std::stol(conn_.input().substr(7));
}

std::optional<SseEvent> HubSubscriber::next_event(Deadline deadline) { return reader_.next_event(deadline); }

SseEvent HubSubscriber::next() {
    std::optional<SseEvent> event = next_event();
    if (!event) throw std::runtime_error("the stream ended before the next event");
    return *event;
}

HubPublisher::HubPublisher(std::uint16_t port, std::string extra_headers)
    : conn_(Connection::open(port)), extra_headers_(std::move(extra_headers)) {}

Response HubPublisher::post(const std::string& topic, const std::string& body, const std::string& event) {
    std::string target = "/publish?topic=" + topic + (event.empty() ? "" : "&event=" + event);
    std::string headers = extra_headers_ + "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return sse::test::exchange(conn_, make_request("POST", target, headers) + body);
}

std::string HubPublisher::publish(const std::string& topic, const std::string& body, const std::string& event) {
    Response answer = post(topic, body, event);
    std::string id = json_field(answer.body, "id");
    if (answer.status != 200 || id.empty()) {
        throw std::runtime_error("publish to " + topic + " answered " + std::to_string(answer.status) + ": " +
                                 answer.body);
    }
    return id;
}

}  // namespace sse::test
