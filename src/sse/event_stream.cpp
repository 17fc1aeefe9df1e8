// The text/event-stream encoder and a UTF-8 check; contracts in event_stream.h.
#include "sse/event_stream.h"

#include <algorithm>

namespace sse {
namespace {

// The characters that would end a line (CR, LF) or make the browser ignore
// an "id:" field (NUL) are dropped from single-line fields.
bool breaks_single_line(char c) {
    return c == '\r' || c == '\n' || c == '\0';
}

// Appends `text` without its CR, LF and NUL bytes. Such bytes are rare, so
// the runs between them are appended whole rather than byte by byte.
void append_single_line(std::string& out, std::string_view text) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!breaks_single_line(text[i])) continue;
        out.append(text.substr(start, i - start));
        start = i + 1;
    }
    out.append(text.substr(start));
}

bool cleans_to_empty(std::string_view text) {
    for (char c : text) {
        if (!breaks_single_line(c)) return false;
    }
    return true;
}

// Appends "<field>: <value>\n", or nothing when `value` cleans to empty:
// an empty "id:" line would reset the browser's last event id, which an
// id made only of line breaks was surely not meant to do.
void append_field(std::string& out, std::string_view field, std::string_view value) {
    if (cleans_to_empty(value)) return;
    out.append(field).append(": ");
    append_single_line(out, value);
    out += '\n';
}

// Walks `data` line by line, splitting on CRLF, LF and a lone CR exactly
// as the browser's parser does. The next CR and the next LF are each found
// with memchr (many bytes per step) and remembered until the walk passes
// them, so the walk stays linear however many lines there are.
class LineSplitter {
public:
    explicit LineSplitter(std::string_view data)
        : data_(data), next_cr_(find('\r', 0)), next_lf_(find('\n', 0)) {}

    // The next line, or false after the last one. Text without a line
    // break is one line; a final line break leaves an empty last line.
    bool next(std::string_view& line) {
        if (done_) return false;
        std::size_t end = std::min(next_cr_, next_lf_);
        line = data_.substr(start_, end - start_);
        if (end == data_.size()) {
            done_ = true;
            return true;
        }
        start_ = end + 1;
        if (data_[end] == '\r' && start_ < data_.size() && data_[start_] == '\n') ++start_;
        if (next_cr_ < start_) next_cr_ = find('\r', start_);
        if (next_lf_ < start_) next_lf_ = find('\n', start_);
        return true;
    }

private:
    std::size_t find(char c, std::size_t from) const {
        return std::min(data_.find(c, from), data_.size());
    }

    std::string_view data_;
    std::size_t start_ = 0;
    std::size_t next_cr_;
    std::size_t next_lf_;
    bool done_ = false;
};

// One "data: <line>\n" per line of `data`. The single space after the colon
// is the one the browser strips, so a line's own leading spaces survive.
void append_data_lines(std::string& out, std::string_view data) {
    LineSplitter lines(data);
    std::string_view line;
    while (lines.next(line)) out.append("data: ").append(line) += '\n';
}

// The bytes append_data_lines() adds for `data`.
std::size_t data_lines_size(std::string_view data) {
    constexpr std::size_t kDataLineOverhead = std::string_view("data: \n").size();
    LineSplitter lines(data);
    std::string_view line;
    std::size_t size = 0;
    while (lines.next(line)) size += kDataLineOverhead + line.size();
    return size;
}

bool is_continuation(unsigned char byte) {
    return (byte & 0xC0) == 0x80;
}

// What a lead byte announces: the sequence length, and the range its second
// byte must fall in. The narrowed ranges after E0, ED, F0 and F4 are what
// exclude overlong forms, surrogates and code points above U+10FFFF
// (Unicode, Table 3-7). Length 0 marks a byte that can never lead.
struct LeadByte {
    std::size_t length;
    unsigned char second_min;
    unsigned char second_max;
};

LeadByte classify(unsigned char lead) {
    if (lead < 0x80) return {1, 0, 0};
    if (lead < 0xC2) return {0, 0, 0};  // continuation, or overlong C0/C1
    if (lead < 0xE0) return {2, 0x80, 0xBF};
    if (lead == 0xE0) return {3, 0xA0, 0xBF};
    if (lead == 0xED) return {3, 0x80, 0x9F};
    if (lead < 0xF0) return {3, 0x80, 0xBF};
    if (lead == 0xF0) return {4, 0x90, 0xBF};
    if (lead < 0xF4) return {4, 0x80, 0xBF};
    if (lead == 0xF4) return {4, 0x80, 0x8F};
    return {0, 0, 0};  // F5..FF
}

// Length of the well-formed sequence at the start of `bytes`, or 0.
std::size_t sequence_length(std::string_view bytes) {
    auto at = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
    LeadByte lead = classify(at(0));
    if (lead.length <= 1) return lead.length;
    if (bytes.size() < lead.length) return 0;  // truncated
    if (at(1) < lead.second_min || at(1) > lead.second_max) return 0;
    for (std::size_t i = 2; i < lead.length; ++i) {
        if (!is_continuation(at(i))) return 0;
    }
    return lead.length;
}

}  // namespace

std::string encode_event(std::string_view id, std::string_view name, std::string_view data,
                         std::optional<std::uint32_t> retry_ms) {
    // Exactly one allocation: the size is an upper bound (line breaks
    // dropped from the id or name only make the text shorter).
    constexpr std::size_t kFieldOverhead = std::string_view("event: \n").size();
    constexpr std::size_t kRetryLineMax = std::string_view("retry: 4294967295\n").size();
    std::string out;
    out.reserve(2 * kFieldOverhead + id.size() + name.size() + kRetryLineMax + data_lines_size(data) + 1);
    append_field(out, "id", id);
    append_field(out, "event", name);
    if (retry_ms) out.append("retry: ").append(std::to_string(*retry_ms)) += '\n';  // short: no allocation
    append_data_lines(out, data);
    out += '\n';
    return out;
}

std::string encode_retry(std::uint32_t retry_ms) {
    return "retry: " + std::to_string(retry_ms) + "\n\n";
}

std::string encode_comment(std::string_view text) {
    if (cleans_to_empty(text)) return ":\n\n";
    std::string out = ": ";
    append_single_line(out, text);
    out += "\n\n";
    return out;
}

bool is_valid_utf8(std::string_view bytes) {
    while (!bytes.empty()) {
        std::size_t length = sequence_length(bytes);
        if (length == 0) return false;
        bytes.remove_prefix(length);
    }
    return true;
}

}  // namespace sse
