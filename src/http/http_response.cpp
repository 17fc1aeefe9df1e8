#include "http/http_response.h"

#include <charconv>
#include <ctime>

namespace sse {

Response Response::text(int status, std::string_view message) {
    Response response;
    response.status = status;
    response.content_type = "text/plain; charset=utf-8";
    response.body = std::string(message) + "\n";
    return response;
}

std::string_view status_text(int status) {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 417: return "Expectation Failed";
        case 422: return "Unprocessable Content";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

std::string_view http_date() {
    static std::time_t cached_second = 0;
    static char cached[40] = "";
    std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        std::tm utc{};
        ::gmtime_r(&now, &utc);
        std::strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &utc);
        cached_second = now;
    }
    return cached;
}

void append_decimal(std::string& out, std::uint64_t value) {
    char digits[20];  // 2^64 - 1 has 20 digits
    out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

std::string format_head(const Response& response, ConnectionHeader connection, std::size_t room_after) {
    // Enough for the fixed lines; each extra header adds its own length.
    constexpr std::size_t kFixedHeadBytes = 192;
    std::size_t size = kFixedHeadBytes + response.content_type.size() + room_after;
    for (const auto& [name, value] : response.headers) size += name.size() + value.size() + 4;
    std::string head;
    head.reserve(size);
    head += "HTTP/1.1 ";
    append_decimal(head, static_cast<std::uint64_t>(response.status));
    head += ' ';
    head += status_text(response.status);
    head += "\r\nDate: ";
    head += http_date();
    head += "\r\nServer: sse-server\r\n";
    if (!response.content_type.empty()) {
        head.append("Content-Type: ").append(response.content_type).append("\r\n");
    }
    // 1xx and 204 carry no body and no length (RFC 9110 section 8.6).
    if (response.has_length && response.status >= 200 && response.status != 204) {
        head += "Content-Length: ";
        append_decimal(head, response.body.size());
        head += "\r\n";
    }
    for (const auto& [name, value] : response.headers) {
        head.append(name).append(": ").append(value).append("\r\n");
    }
    if (connection == ConnectionHeader::Close) head += "Connection: close\r\n";
    if (connection == ConnectionHeader::KeepAlive) head += "Connection: keep-alive\r\n";
    head += "\r\n";
    return head;
}

}  // namespace sse
