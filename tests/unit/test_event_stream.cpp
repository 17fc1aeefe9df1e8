// Tests for src/event_stream: the encoder's wire text, its resistance to
// injection (checked against a reference event-stream parser), and UTF-8.
#include "sse/event_stream.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::string_literals;

struct EncodeCase {
    const char* name;
    std::string id;
    std::string event;
    std::string data;
    std::string wire;
};

const EncodeCase kEncodeCases[] = {
    {"data only", "", "", "hello", "data: hello\n\n"},
    {"id and data", "1-0", "", "hello", "id: 1-0\ndata: hello\n\n"},
    {"name and data", "", "news", "hello", "event: news\ndata: hello\n\n"},
    {"all fields", "1-2", "news", "hello", "id: 1-2\nevent: news\ndata: hello\n\n"},
    {"empty data", "", "", "", "data: \n\n"},
    {"LF splits", "", "", "a\nb", "data: a\ndata: b\n\n"},
    {"CRLF splits once", "", "", "a\r\nb", "data: a\ndata: b\n\n"},
    {"lone CR splits", "", "", "a\rb", "data: a\ndata: b\n\n"},
    {"LF CR is two breaks", "", "", "a\n\rb", "data: a\ndata: \ndata: b\n\n"},
    {"trailing LF", "", "", "a\n", "data: a\ndata: \n\n"},
    {"only CRLF", "", "", "\r\n", "data: \ndata: \n\n"},
    {"blank lines kept", "", "", "a\n\nb", "data: a\ndata: \ndata: b\n\n"},
    {"leading spaces kept", "", "", " x", "data:  x\n\n"},
    {"colon in data", "", "", "k: v", "data: k: v\n\n"},
    {"NUL in data passes", "", "", "a\0b"s, "data: a\0b\n\n"s},
    {"UTF-8 passes", "", "", "caf\xc3\xa9", "data: caf\xc3\xa9\n\n"},
    {"id loses CR LF NUL", "1\r\n-\0" "2"s, "", "x", "id: 1-2\ndata: x\n\n"},
    {"name loses CR LF NUL", "", "ev\nid: 9\r\0"s, "x", "event: evid: 9\ndata: x\n\n"},
    {"id of only breaks omitted", "\r\n", "", "x", "data: x\n\n"},
    {"name of only breaks omitted", "", "\n", "x", "data: x\n\n"},
};

TEST_CASE("encode_event") {
    for (const EncodeCase& c : kEncodeCases) {
        INFO(c.name);
        CHECK(sse::encode_event(c.id, c.event, c.data) == c.wire);
    }
}

TEST_CASE("encode_event with a retry puts the line before the data") {
    CHECK(sse::encode_event("1-0", "", "x", 60000) == "id: 1-0\nretry: 60000\ndata: x\n\n");
    CHECK(sse::encode_event("1-0", "news", "a\nb", 1) == "id: 1-0\nevent: news\nretry: 1\ndata: a\ndata: b\n\n");
    CHECK(sse::encode_event("", "", "", sse::kMaxRetryMs) == "retry: 86400000\ndata: \n\n");
    CHECK(sse::encode_event("1-0", "", "x", std::nullopt) == sse::encode_event("1-0", "", "x"));
}

TEST_CASE("encode_retry and encode_comment") {
    CHECK(sse::encode_retry(0) == "retry: 0\n\n");
    CHECK(sse::encode_retry(3000) == "retry: 3000\n\n");
    CHECK(sse::encode_retry(4294967295u) == "retry: 4294967295\n\n");
    CHECK(sse::encode_comment("keep-alive") == ": keep-alive\n\n");
    CHECK(sse::encode_comment("") == ":\n\n");
    CHECK(sse::encode_comment("a\r\nb\0c"s) == ": abc\n\n");
    CHECK(sse::encode_comment("\n\ndata: x") == ": data: x\n\n");
    CHECK(sse::encode_comment("\r\n") == ":\n\n");
}

// The wire text split into lines on LF (the encoder writes no CR).
std::vector<std::string> wire_lines(const std::string& wire) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t lf = wire.find('\n'); lf != std::string::npos; lf = wire.find('\n', start)) {
        lines.push_back(wire.substr(start, lf - start));
        start = lf + 1;
    }
    return lines;
}

const char* const kInjections[] = {
    "\nid: 666",
    "\r\nevent: evil",
    "\rretry: 1",
    "\n\ndata: second event",
    "ok\r\n\r\nid: 1\r\n\r\n",
    "\r\r\n\n\r",
    ":comment\n: another",
};

TEST_CASE("data cannot inject fields or end the event early") {
    for (const char* data : kInjections) {
        INFO(std::string_view(data));
        std::string wire = sse::encode_event("7-0", "news", data);
        CHECK(wire.find('\r') == std::string::npos);
        CHECK(wire.find("\n\n") == wire.size() - 2);  // one terminator, at the end
        std::vector<std::string> lines = wire_lines(wire);
        REQUIRE(lines.size() >= 4);
        CHECK(lines[0] == "id: 7-0");
        CHECK(lines[1] == "event: news");
        CHECK(lines.back().empty());
        for (std::size_t i = 2; i + 1 < lines.size(); ++i) {
            CHECK(lines[i].starts_with("data: "));
        }
    }
}

// A reference parser following the WHATWG "event stream interpretation"
// steps over bytes, kept independent of the encoder on purpose.
struct ParsedEvent {
    std::string id;  // the last event id when the event was dispatched
    std::string type;
    std::string data;
};

class ReferenceParser {
public:
    std::vector<ParsedEvent> parse(std::string_view stream) {
        std::size_t start = 0;
        for (std::size_t i = 0; i < stream.size(); ++i) {
            if (stream[i] != '\r' && stream[i] != '\n') continue;
            line(stream.substr(start, i - start));
            if (stream[i] == '\r' && i + 1 < stream.size() && stream[i + 1] == '\n') ++i;
            start = i + 1;
        }
        // Whatever follows the last line break is an unfinished line; the
        // spec discards it together with any undispatched event.
        return events_;
    }

private:
    void line(std::string_view text) {
        if (text.empty()) return dispatch();
        if (text[0] == ':') return;  // comment
        std::size_t colon = text.find(':');
        std::string_view field = text.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? "" : text.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        if (field == "event") type_ = value;
        if (field == "data") data_.append(value).append("\n");
        if (field == "id" && value.find('\0') == std::string_view::npos) id_ = value;
    }

    void dispatch() {
        last_id_ = id_;
        if (data_.empty()) {
            type_.clear();
            return;
        }
        data_.pop_back();  // the LF after the last data line
        events_.push_back({last_id_, type_, data_});
        data_.clear();
        type_.clear();
    }

    std::string id_, last_id_, type_, data_;
    std::vector<ParsedEvent> events_;
};

// What a browser hands to the page: every line break becomes LF.
std::string normalize_breaks(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
        out += text[i] == '\r' ? '\n' : text[i];
    }
    return out;
}

void check_round_trip(const std::string& id, const std::string& name, const std::string& data) {
    std::vector<ParsedEvent> events = ReferenceParser().parse(sse::encode_event(id, name, data));
    REQUIRE(events.size() == 1);
    CHECK(events[0].data == normalize_breaks(data));
    CHECK(events[0].id == id);
    CHECK(events[0].type == name);
}

TEST_CASE("the reference parser reads back exactly what was encoded") {
    for (const char* data : kInjections) {
        INFO(std::string_view(data));
        check_round_trip("1-0", "news", data);
    }
    check_round_trip("", "", "");
    check_round_trip("", "", "  two leading spaces");
    check_round_trip("9-9", "", "\n");
}

TEST_CASE("random data survives encode then parse") {
    // The alphabet is heavy in the characters that matter to the format.
    const std::string alphabet = "\r\n\r\n: aid\0ev"s;
    std::mt19937 rng(20240501);
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<int> length(0, 24);
    auto random_text = [&](std::string_view exclude) {
        std::string text;
        for (int n = length(rng); n > 0; --n) {
            char c = alphabet[pick(rng)];
            if (exclude.find(c) == std::string_view::npos) text += c;
        }
        return text;
    };
    for (int i = 0; i < 2000; ++i) {
        std::string data = random_text("");
        std::string id = random_text("\r\n\0"s);
        std::string name = random_text("\r\n\0"s);
        INFO("case " << i);
        check_round_trip(id, name, data);
    }
}

TEST_CASE("names and ids with line breaks arrive cleaned") {
    std::vector<ParsedEvent> events =
        ReferenceParser().parse(sse::encode_event("1\n-\r0\0"s, "ne\r\nws", "x"));
    REQUIRE(events.size() == 1);
    CHECK(events[0].id == "1-0");
    CHECK(events[0].type == "news");
    CHECK(events[0].data == "x");
}

struct Utf8Case {
    const char* name;
    std::string bytes;
    bool valid;
};

const Utf8Case kUtf8Cases[] = {
    {"empty", "", true},
    {"ASCII", "hello, world", true},
    {"NUL is ASCII", "a\0b"s, true},
    {"2 bytes U+00E9", "\xC3\xA9", true},
    {"3 bytes U+20AC", "\xE2\x82\xAC", true},
    {"4 bytes U+1F600", "\xF0\x9F\x98\x80", true},
    {"U+0080", "\xC2\x80", true},
    {"U+07FF", "\xDF\xBF", true},
    {"U+0800", "\xE0\xA0\x80", true},
    {"U+D7FF", "\xED\x9F\xBF", true},
    {"U+E000", "\xEE\x80\x80", true},
    {"U+FFFF", "\xEF\xBF\xBF", true},
    {"U+10000", "\xF0\x90\x80\x80", true},
    {"U+10FFFF", "\xF4\x8F\xBF\xBF", true},
    {"mixed", "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z", true},
    {"overlong C0 AF", "\xC0\xAF", false},
    {"overlong C1 BF", "\xC1\xBF", false},
    {"overlong E0 80 AF", "\xE0\x80\xAF", false},
    {"overlong E0 9F BF", "\xE0\x9F\xBF", false},
    {"overlong F0 8F BF BF", "\xF0\x8F\xBF\xBF", false},
    {"surrogate U+D800", "\xED\xA0\x80", false},
    {"surrogate U+DFFF", "\xED\xBF\xBF", false},
    {"above U+10FFFF", "\xF4\x90\x80\x80", false},
    {"lead F5", "\xF5\x80\x80\x80", false},
    {"lead FF", "\xFF", false},
    {"truncated 2 bytes", "\xC3", false},
    {"truncated 3 bytes", "\xE2\x82", false},
    {"truncated 4 bytes", "\xF0\x9F\x98", false},
    {"truncated then ASCII", "\xE2\x82" "a", false},
    {"stray continuation", "\x80", false},
    {"stray after ASCII", "a\xBF", false},
    {"continuation too many", "\xC3\xA9\xA9", false},
    {"bad third byte", "\xE2\x82\x41", false},
};

TEST_CASE("is_valid_utf8") {
    for (const Utf8Case& c : kUtf8Cases) {
        INFO(c.name);
        CHECK(sse::is_valid_utf8(c.bytes) == c.valid);
    }
}

}  // namespace
