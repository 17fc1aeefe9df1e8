#include "sse_reader.h"

#include <string_view>

namespace sse::test {

std::optional<std::string> SseReader::next_line(Deadline deadline) {
    std::string& in = conn_.input();
    for (;;) {
        // A CR ended the previous line; if a LF follows, the pair was one CRLF.
        // It may only arrive in a later read, hence the flag.
        if (skip_next_lf_ && !in.empty()) {
            if (in.front() == '\n') in.erase(0, 1);
            skip_next_lf_ = false;
        }
        std::size_t eol = in.find_first_of("\r\n");
        if (eol != std::string::npos) {
            std::string line = in.substr(0, eol);
            skip_next_lf_ = in[eol] == '\r';
            in.erase(0, eol + 1);
            return line;
        }
        if (!conn_.receive(deadline)) return std::nullopt;
    }
}

std::optional<SseEvent> SseReader::next_event(Deadline deadline) {
    SseEvent event;
    bool has_data = false;
    for (;;) {
        std::optional<std::string> line = next_line(deadline);
        if (!line) return std::nullopt;  // an unfinished block is discarded
        if (line->empty()) {
            if (has_data) {
                if (!event.data.empty()) event.data.pop_back();  // the last '\n'
                return event;
            }
            event = SseEvent{};
            continue;
        }
        event.lines.push_back(*line);
        if (line->front() == ':') {
            ++comment_count_;
            continue;
        }
        std::string_view text = *line;
        std::size_t colon = text.find(':');
        std::string_view field = text.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? "" : text.substr(colon + 1);
        if (value.starts_with(' ')) value.remove_prefix(1);

        if (field == "data") {
            event.data.append(value).append("\n");
            has_data = true;
        } else if (field == "event") {
            event.type = value;
        } else if (field == "id") {
            event.id = std::string(value);
        } else if (field == "retry") {
            retry_ = std::string(value);
        }
    }
}

}  // namespace sse::test
