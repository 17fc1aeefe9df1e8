// libFuzzer target: the event-stream encoder, event ids, the UTF-8 check
// and the URL helpers.
//
// encode_event() is read back with a small reference parser written from
// the WHATWG "interpret an event stream" steps: whatever the publisher
// sends, the browser must see exactly one event, with the data it sent
// (line endings normalized to LF) and no field it did not ask for.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sse/event_id.h"
#include "sse/event_stream.h"
#include "http/url.h"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_event_stream: invariant broken: %s\n", what);
    std::abort();
}

void check(bool ok, const char* what) {
    if (!ok) fail(what);
}

struct ParsedEvent {
    std::string id;
    bool has_id = false;
    std::string name;
    std::string data;
};

// The browser's parser, reduced to what is checked here: lines end at
// CRLF, LF or CR; "field: value" loses one space after the colon; a blank
// line dispatches. Any field other than id, event and data fails.
std::vector<ParsedEvent> parse_stream(std::string_view stream, std::string& leftover) {
    std::vector<ParsedEvent> events;
    ParsedEvent current;
    bool has_data = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < stream.size(); ++i) {
        if (stream[i] != '\r' && stream[i] != '\n') continue;
        std::string_view line = stream.substr(start, i - start);
        if (stream[i] == '\r' && i + 1 < stream.size() && stream[i + 1] == '\n') ++i;
        start = i + 1;
        if (line.empty()) {
            if (has_data) {
                current.data.pop_back();  // the LF after the last data line
                events.push_back(current);
            }
            current = ParsedEvent{};
            has_data = false;
            continue;
        }
        check(line.front() != ':', "the encoder wrote no comment");
        std::size_t colon = line.find(':');
        std::string_view field = line.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (field == "data") {
            current.data.append(value).append("\n");
            has_data = true;
        } else if (field == "event") {
            current.name = value;
        } else if (field == "id") {
            current.id = value;
            current.has_id = true;
        } else {
            fail("the encoder wrote an unexpected field");
        }
    }
    leftover = std::string(stream.substr(start));
    return events;
}

std::string normalize_line_endings(std::string_view data) {
    std::string out;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] == '\r') {
            out += '\n';
            if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
        } else {
            out += data[i];
        }
    }
    return out;
}

std::string without_breaks(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c != '\r' && c != '\n' && c != '\0') out += c;
    }
    return out;
}

// Splits the input into three pieces at its first two 0xFF bytes.
void split3(std::string_view input, std::string_view& a, std::string_view& b, std::string_view& c) {
    std::size_t first = input.find('\xFF');
    a = input.substr(0, first);
    if (first == std::string_view::npos) return;
    std::string_view rest = input.substr(first + 1);
    std::size_t second = rest.find('\xFF');
    b = rest.substr(0, second);
    if (second != std::string_view::npos) c = rest.substr(second + 1);
}

void fuzz_encode_event(std::string_view input) {
    std::string_view id, name, data;
    split3(input, data, id, name);
    std::string wire = sse::encode_event(id, name, data);
    std::string leftover;
    std::vector<ParsedEvent> events = parse_stream(wire, leftover);
    check(leftover.empty(), "the event ends with a line ending");
    check(wire.size() >= 2 && wire.ends_with("\n\n"), "the event ends with a blank line");
    check(events.size() == 1, "exactly one event");
    const ParsedEvent& event = events[0];
    check(event.data == normalize_line_endings(data), "data arrives as sent, line endings as LF");
    std::string clean_id = without_breaks(id);
    check(event.has_id == !clean_id.empty(), "an id line exactly when the id has content");
    check(event.id == clean_id, "the id arrives without line breaks or NUL");
    check(event.name == without_breaks(name), "the name arrives without line breaks or NUL");

    std::string comment = sse::encode_comment(input);
    check(comment.front() == ':' && comment.ends_with("\n\n"), "a comment is one line and a blank line");
    check(comment.find_first_of("\r\0", 0, 2) == std::string::npos, "a comment has no CR or NUL");
    check(comment.find('\n') == comment.size() - 2, "a comment has a single line");
}

void fuzz_event_id(std::string_view input) {
    std::optional<sse::EventId> id = sse::parse_event_id(input);
    if (!id) return;
    check(input.size() <= sse::kMaxEventIdChars, "a parsed id is short");
    std::string text = id->to_string();
    std::optional<sse::EventId> again = sse::parse_event_id(text);
    check(again && *again == *id, "parse -> to_string -> parse gives the same id");
    // Without leading zeros the text is canonical, so it round-trips exactly.
    check(text.size() <= input.size(), "to_string is no longer than what was parsed");
}

// A plain UTF-8 decoder: decodes each sequence to its code point and
// refuses overlongs, surrogates and anything above U+10FFFF.
bool reference_utf8(std::string_view bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        auto lead = static_cast<unsigned char>(bytes[i]);
        std::size_t length;
        std::uint32_t code;
        if (lead < 0x80) { length = 1; code = lead; }
        else if ((lead & 0xE0) == 0xC0) { length = 2; code = lead & 0x1F; }
        else if ((lead & 0xF0) == 0xE0) { length = 3; code = lead & 0x0F; }
        else if ((lead & 0xF8) == 0xF0) { length = 4; code = lead & 0x07; }
        else return false;
        if (bytes.size() - i < length) return false;
        for (std::size_t k = 1; k < length; ++k) {
            auto next = static_cast<unsigned char>(bytes[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            code = (code << 6) | (next & 0x3F);
        }
        static const std::uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < kMinForLength[length]) return false;          // overlong
        if (code >= 0xD800 && code <= 0xDFFF) return false;      // surrogate
        if (code > 0x10FFFF) return false;
        i += length;
    }
    return true;
}

void fuzz_url(std::string_view input) {
    std::optional<std::string> decoded = sse::percent_decode(input);
    if (decoded) {
        check(decoded->size() <= input.size(), "decoding never grows the text");
        check(decoded->find('\0') == std::string::npos || input.find('\0') != std::string_view::npos,
              "no NUL is decoded from an escape");
    }
    static const char* const kNames[] = {"topic", "event", "type", "lastEventId", ""};
    for (const char* name : kNames) {
        std::optional<std::string> value = sse::query_param(input, name);
        if (value) check(value->size() <= input.size(), "a parameter is no longer than the query");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz_encode_event(input);
    fuzz_event_id(input);
    check(sse::is_valid_utf8(input) == reference_utf8(input), "is_valid_utf8 agrees with a plain decoder");
    fuzz_url(input);
    return 0;
}
