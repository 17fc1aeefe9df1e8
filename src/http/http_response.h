// Building HTTP/1.1 responses: status lines, headers, error bodies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sse {

// Extra header fields of a response, in order.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Response {
    int status = 200;
    // Empty: no Content-Type header. A view, because every content type is
    // a literal or an entry of a static table (content_type_for): the
    // response path then copies nothing to name its type.
    std::string_view content_type;
    std::string body;
    HeaderList headers;         // extra header fields
    bool close = false;         // the connection ends after this response
    // False for an event stream: its body runs until the connection closes,
    // so it has no Content-Length.
    bool has_length = true;

    // A short text/plain response, e.g. Response::text(404, "not found").
    static Response text(int status, std::string_view message);
};

// How the response speaks about the connection.
enum class ConnectionHeader {
    None,       // HTTP/1.1 keep-alive is the default: say nothing
    KeepAlive,  // an HTTP/1.0 client asked to keep the connection
    Close,      // the server closes after this response
};

// "Not Found" for 404, and so on; "Unknown" for codes it does not know.
std::string_view status_text(int status);

// The status line and header fields, ending with the empty line. The body
// length is announced even for HEAD, where the body itself is not sent.
// `room_after` is capacity reserved for bytes the caller appends next (a
// small body), so head and body can share one buffer.
std::string format_head(const Response& response, ConnectionHeader connection, std::size_t room_after = 0);

// Appends `value` in decimal, without a temporary string.
void append_decimal(std::string& out, std::uint64_t value);

// The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
// formatted at most once per second.
std::string_view http_date();

}  // namespace sse
