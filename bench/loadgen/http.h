// HTTP as a client needs it: the GET that opens a stream, response heads,
// and the chunked transfer coding.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sockets.h"

namespace sse_load {

// "GET PATH" with the Host and Accept: text/event-stream headers, and
// `extra_headers` (whole lines, each ending in CRLF) after them.
std::string format_get(const Target& target, std::string_view path, std::string_view extra_headers = {});

struct ResponseHead {
    int status = 0;
    std::int64_t content_length = -1;  // -1: none given
    bool chunked = false;
    bool close = false;  // Connection: close, or no framing at all
};

// Where the head ends (just past the blank line), if it has ended.
// Bare-LF line ends are accepted, as most clients do.
std::optional<std::size_t> find_head_end(std::string_view bytes);

// Parses "HTTP/1.x NNN ..." and the few header fields a client needs for
// framing. Returns false if the status line is not HTTP.
bool parse_head(std::string_view head, ResponseHead& out);

// Decodes Transfer-Encoding: chunked incrementally (node's http module chunks
// every stream). Chunk data is handed to `sink` as views into the input, so
// nothing is copied; chunk extensions and trailers are skipped.
class ChunkedDecoder {
public:
    enum class Status { More, Done, Error };

    template <class Sink>
    Status feed(std::string_view in, Sink&& sink) {
        while (!in.empty() && state_ != State::Done) {
            if (state_ == State::Data) {
                std::size_t n = std::min<std::uint64_t>(remaining_, in.size());
                sink(in.substr(0, n));
                in.remove_prefix(n);
                remaining_ -= n;
                if (remaining_ == 0) state_ = State::DataEnd;
                continue;
            }
            if (!step(in.front())) return Status::Error;
            in.remove_prefix(1);
        }
        return state_ == State::Done ? Status::Done : Status::More;
    }

private:
    enum class State { Size, Extension, Data, DataEnd, TrailerStart, TrailerLine, Done };

    // One byte of framing (everything but chunk data). False on bad input.
    bool step(char c) {
        switch (state_) {
            case State::Size: return size_byte(c);
            case State::Extension: if (c == '\n') return end_size_line(); return true;
            case State::DataEnd:
                if (c == '\n') state_ = State::Size, remaining_ = 0, digits_ = 0;
                return c == '\r' || c == '\n';
            case State::TrailerStart:
                if (c == '\n') state_ = State::Done;
                else if (c != '\r') state_ = State::TrailerLine;
                return true;
            case State::TrailerLine: if (c == '\n') state_ = State::TrailerStart; return true;
            default: return false;
        }
    }
    bool size_byte(char c) {
        int digit = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (digit >= 0) {
            if (++digits_ > 12) return false;  // over 2^48 bytes: not a real chunk
            remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
            return true;
        }
        if (c == ';' || c == ' ' || c == '\t') state_ = State::Extension;
        else if (c == '\n') return end_size_line();
        else if (c != '\r') return false;
        return true;
    }
    bool end_size_line() {
        if (digits_ == 0) return false;
        state_ = remaining_ == 0 ? State::TrailerStart : State::Data;
        return true;
    }

    State state_ = State::Size;
    std::uint64_t remaining_ = 0;
    int digits_ = 0;
};

}  // namespace sse_load
