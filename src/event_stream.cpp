// The text/event-stream encoder and a UTF-8 check; contracts in event_stream.h.
#include "event_stream.h"

namespace sse {
namespace {

// The characters that would end a line (CR, LF) or make the browser ignore
// an "id:" field (NUL) are dropped from single-line fields.
bool breaks_single_line(char c) {
    return c == '\r' || c == '\n' || c == '\0';
}

std::string single_line(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (!breaks_single_line(c)) out += c;
    }
    return out;
}

// Appends "<field>: <value>\n", or nothing when `value` cleans to empty:
// an empty "id:" line would reset the browser's last event id, which an
// id made only of line breaks was surely not meant to do.
void append_field(std::string& out, std::string_view field, std::string_view value) {
    std::string clean = single_line(value);
    if (clean.empty()) return;
    out.append(field).append(": ").append(clean).append("\n");
}

// One "data: <piece>\n" per line of `data`, splitting on CRLF, LF and a lone
// CR exactly as the browser's parser does. The single space after the colon
// is the one the browser strips, so a piece's own leading spaces survive.
void append_data_lines(std::string& out, std::string_view data) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] != '\r' && data[i] != '\n') continue;
        out.append("data: ").append(data.substr(start, i - start)).append("\n");
        if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
        start = i + 1;
    }
    out.append("data: ").append(data.substr(start)).append("\n");
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

std::string encode_event(std::string_view id, std::string_view name, std::string_view data) {
    std::string out;
    // Room for the field names and a few data lines, so most events need
    // one allocation.
    out.reserve(id.size() + name.size() + data.size() + 32);
    append_field(out, "id", id);
    append_field(out, "event", name);
    append_data_lines(out, data);
    out += '\n';
    return out;
}

std::string encode_retry(std::uint32_t retry_ms) {
    return "retry: " + std::to_string(retry_ms) + "\n\n";
}

std::string encode_comment(std::string_view text) {
    std::string clean = single_line(text);
    if (clean.empty()) return ":\n\n";
    return ": " + clean + "\n\n";
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
