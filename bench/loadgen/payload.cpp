#include "payload.h"

#include "base.h"

namespace sse_load {

std::string make_payload(std::string_view topic, std::uint64_t seq, std::int64_t due_ns, std::int64_t sent_ns,
                         std::size_t pad) {
    std::string body = "{\"topic\":\"";
    body.append(topic).append("\",\"seq\":").append(std::to_string(seq));
    body.append(",\"due\":").append(std::to_string(due_ns));
    body.append(",\"t\":").append(std::to_string(sent_ns)).append(",\"pad\":\"");
    body.append(pad, 'x').append("\"}");
    return body;
}

Payload read_payload(std::string_view data) {
    Payload p;
    auto number_after = [&](std::string_view key) -> std::uint64_t {
        std::size_t at = data.find(key);
        if (at == std::string_view::npos) return 0;
        std::string_view rest = data.substr(at + key.size());
        std::size_t digits = rest.find_first_not_of("0123456789");
        return parse_number<std::uint64_t>(rest.substr(0, digits)).value_or(0);
    };
    p.seq = number_after("\"seq\":");
    p.sent_ns = static_cast<std::int64_t>(number_after("\"t\":"));
    p.due_ns = static_cast<std::int64_t>(number_after("\"due\":"));
    std::size_t at = data.find("\"topic\":\"");
    if (at != std::string_view::npos) {
        std::string_view rest = data.substr(at + 9);
        p.topic = rest.substr(0, rest.find('"'));
    }
    return p;
}

}  // namespace sse_load
