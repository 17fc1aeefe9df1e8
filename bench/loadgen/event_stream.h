// The text/event-stream parser: pure, incremental, no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base.h"

namespace sse_load {

// One dispatched event, as views valid only during the callback.
struct Event {
    std::string_view type;  // the event: field, or "message"
    std::string_view data;  // data: lines joined with '\n'
    std::string_view id;    // the last id: seen (it persists across events)
};

// The text/event-stream format of the HTML standard, parsed incrementally:
// bytes may arrive split anywhere, lines end in CRLF, LF or a lone CR, a
// line starting with ':' is a comment, and a blank line dispatches the event
// built so far (only if it had a data field). The parser keeps just the
// unfinished line and the event under construction.
class EventStreamParser {
public:
    template <class OnEvent>
    void feed(std::string_view bytes, OnEvent&& on_event) {
        if (skip_lf_ && !bytes.empty()) {
            if (bytes.front() == '\n') bytes.remove_prefix(1);  // the LF of a CRLF split across reads
            skip_lf_ = false;
        }
        while (!bytes.empty()) {
            std::size_t end = bytes.find_first_of("\r\n");
            if (end == std::string_view::npos) {
                partial_.append(bytes);  // the line continues in the next read
                return;
            }
            if (partial_.empty()) {
                line(bytes.substr(0, end), on_event);  // common case: no copy
            } else {
                partial_.append(bytes.substr(0, end));
                line(partial_, on_event);
                partial_.clear();
            }
            bool cr = bytes[end] == '\r';
            bytes.remove_prefix(end + 1);
            if (cr) {
                if (bytes.empty()) skip_lf_ = true;
                else if (bytes.front() == '\n') bytes.remove_prefix(1);
            }
        }
    }

    std::uint64_t comments() const { return comments_; }
    std::int64_t retry_ms() const { return retry_ms_; }
    // The last id: field seen, what a reconnect sends as Last-Event-ID.
    const std::string& last_id() const { return id_; }

private:
    template <class OnEvent>
    void line(std::string_view text, OnEvent& on_event) {
        if (text.empty()) return dispatch(on_event);
        if (text.front() == ':') {
            ++comments_;  // heartbeats and other comments
            return;
        }
        std::size_t colon = text.find(':');
        std::string_view field = text.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
        if (value.starts_with(' ')) value.remove_prefix(1);  // exactly one space is part of the syntax
        if (field == "data") {
            if (has_data_) data_ += '\n';
            data_.append(value);
            has_data_ = true;
        } else if (field == "event") {
            type_ = value;
        } else if (field == "id") {
            if (value.find('\0') == std::string_view::npos) id_ = value;
        } else if (field == "retry") {
            if (auto ms = parse_number<std::int64_t>(value)) retry_ms_ = *ms;
        }  // any other field is ignored, as the standard says
    }

    template <class OnEvent>
    void dispatch(OnEvent& on_event) {
        if (has_data_) on_event(Event{type_.empty() ? std::string_view("message") : type_, data_, id_});
        data_.clear();
        type_.clear();
        has_data_ = false;
    }

    std::string partial_;  // an unfinished line
    std::string data_;
    std::string type_;
    std::string id_;
    bool has_data_ = false;
    bool skip_lf_ = false;  // the last read ended in CR: drop a leading LF
    std::uint64_t comments_ = 0;
    std::int64_t retry_ms_ = -1;
};

}  // namespace sse_load
