// Reading a text/event-stream body incrementally, the way a browser's
// EventSource does (HTML Living Standard, "Server-sent events", parsing an
// event stream): lines end in CRLF, LF or CR; a blank line dispatches the
// event; "data" lines accumulate; lines starting with ':' are comments.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "client.h"

namespace sse::test {

struct SseEvent {
    std::string type;               // the "event" field; empty means "message"
    std::string data;               // "data" lines joined with '\n'
    std::optional<std::string> id;  // the "id" field, when this block had one
    std::vector<std::string> lines; // the block's raw lines, comments included
};

class SseReader {
public:
    // Reads the stream that follows the response head in conn.input().
    explicit SseReader(Connection& conn) : conn_(conn) {}

    // The next dispatched event, or nullopt when the stream ends first.
    // Throws TimeoutError when `deadline` passes. Blocks without data (a
    // lone "retry:" block, comments) are not events and are skipped, as
    // EventSource does.
    std::optional<SseEvent> next_event(Deadline deadline);

    // The value of the last "retry" field seen, exactly as sent.
    const std::optional<std::string>& retry() const { return retry_; }
    std::size_t comment_count() const { return comment_count_; }

private:
    // The next line without its terminator, or nullopt at end of stream.
    std::optional<std::string> next_line(Deadline deadline);

    Connection& conn_;
    bool skip_next_lf_ = false;  // the last line ended in CR; a LF may follow
    std::optional<std::string> retry_;
    std::size_t comment_count_ = 0;
};

}  // namespace sse::test
