#include "http.h"

#include "base.h"

namespace sse_load {

std::string format_get(const Target& target, std::string_view path, std::string_view extra_headers) {
    std::string request = "GET ";
    request.append(path).append(" HTTP/1.1\r\nHost: ").append(target.host);
    request.append("\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n");
    request.append(extra_headers).append("\r\n");
    return request;
}

std::optional<std::size_t> find_head_end(std::string_view bytes) {
    std::size_t crlf = bytes.find("\r\n\r\n");
    std::size_t lf = bytes.find("\n\n");
    if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::nullopt;
    return std::min(crlf == std::string_view::npos ? bytes.size() : crlf + 4,
                    lf == std::string_view::npos ? bytes.size() : lf + 2);
}

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
    return text;
}

}  // namespace

bool parse_head(std::string_view head, ResponseHead& out) {
    std::size_t eol = head.find('\n');
    std::string_view status_line = trim(head.substr(0, eol));
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) return false;
    std::optional<int> status = parse_number<int>(status_line.substr(9, 3));
    if (!status) return false;
    out = ResponseHead{};
    out.status = *status;
    bool http10 = status_line.starts_with("HTTP/1.0");
    while (eol != std::string_view::npos) {
        head.remove_prefix(eol + 1);
        eol = head.find('\n');
        std::string_view line = head.substr(0, eol);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Content-Length")) out.content_length = parse_number<std::int64_t>(value).value_or(-1);
        else if (iequals(name, "Transfer-Encoding")) out.chunked = iequals(value, "chunked");
        else if (iequals(name, "Connection")) out.close = iequals(value, "close");
    }
    // Without a length or chunking, the body ends when the connection does.
    if (http10 || (!out.chunked && out.content_length < 0)) out.close = true;
    return true;
}

}  // namespace sse_load
