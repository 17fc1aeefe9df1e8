#include "redis/resp.h"

#include <charconv>

namespace sse {

std::string encode_command(const std::vector<std::string_view>& words) {
    std::string out = "*" + std::to_string(words.size()) + "\r\n";
    for (std::string_view word : words) {
        out += "$" + std::to_string(word.size()) + "\r\n";
        out.append(word);
        out += "\r\n";
    }
    return out;
}

namespace {

// Reads one "<line>\r\n" at `pos`; nullopt when the CRLF has not arrived.
std::optional<std::string_view> read_line(std::string_view input, std::size_t& pos) {
    std::size_t end = input.find("\r\n", pos);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view line = input.substr(pos, end - pos);
    pos = end + 2;
    return line;
}

bool to_integer(std::string_view text, std::int64_t& out) {
    if (text.empty()) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

ScanResult scan_at(std::string_view input, std::size_t& pos, int depth) {
    if (depth > kMaxRespDepth) return ScanResult::Error;
    if (pos >= input.size()) return ScanResult::Incomplete;
    char kind = input[pos++];
    std::optional<std::string_view> line = read_line(input, pos);
    if (!line) return ScanResult::Incomplete;
    std::int64_t count = 0;
    switch (kind) {
        case '+':
        case '-':
            return ScanResult::Complete;
        case ':':
            return to_integer(*line, count) ? ScanResult::Complete : ScanResult::Error;
        case '$':
            if (!to_integer(*line, count) || count < -1 || count > kMaxRespBulkBytes) return ScanResult::Error;
            if (count == -1) return ScanResult::Complete;
            if (input.size() - pos < static_cast<std::size_t>(count) + 2) return ScanResult::Incomplete;
            pos += static_cast<std::size_t>(count);
            if (input.substr(pos, 2) != "\r\n") return ScanResult::Error;
            pos += 2;
            return ScanResult::Complete;
        case '*':
            if (!to_integer(*line, count) || count < -1 || count > kMaxRespElements) return ScanResult::Error;
            for (std::int64_t i = 0; i < count; ++i) {
                ScanResult r = scan_at(input, pos, depth + 1);
                if (r != ScanResult::Complete) return r;
            }
            return ScanResult::Complete;
        default:
            return ScanResult::Error;
    }
}

RespValue parse_at(std::string_view input, std::size_t& pos) {
    RespValue value;
    char kind = input[pos++];
    std::string_view line = *read_line(input, pos);
    std::int64_t count = 0;
    switch (kind) {
        case '+':
            value.type = RespValue::Type::SimpleString;
            value.text = std::string(line);
            break;
        case '-':
            value.type = RespValue::Type::Error;
            value.text = std::string(line);
            break;
        case ':':
            value.type = RespValue::Type::Integer;
            to_integer(line, value.integer);
            break;
        case '$':
            to_integer(line, count);
            if (count < 0) break;  // null bulk
            value.type = RespValue::Type::Bulk;
            value.text = std::string(input.substr(pos, static_cast<std::size_t>(count)));
            pos += static_cast<std::size_t>(count) + 2;
            break;
        case '*':
            to_integer(line, count);
            if (count < 0) break;  // null array
            value.type = RespValue::Type::Array;
            value.elements.reserve(static_cast<std::size_t>(count));
            for (std::int64_t i = 0; i < count; ++i) value.elements.push_back(parse_at(input, pos));
            break;
    }
    return value;
}

}  // namespace

ScanResult scan_reply(std::string_view input, std::size_t& length) {
    std::size_t pos = 0;
    ScanResult result = scan_at(input, pos, 0);
    if (result == ScanResult::Complete) length = pos;
    return result;
}

RespValue parse_reply(std::string_view complete_reply) {
    std::size_t pos = 0;
    return parse_at(complete_reply, pos);
}

}  // namespace sse
