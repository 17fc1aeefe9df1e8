// Cross-origin access (CORS) for streams and publishing.
//
// EventSource with {withCredentials: true} needs the exact origin echoed
// back (never "*") with Access-Control-Allow-Credentials: true. So even a
// configured "*" is answered by echoing the request's Origin. An origin that
// is not allowed gets no Access-Control-* header at all: the browser then
// refuses the response, which is the point.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/http_response.h"

namespace sse {

class CorsPolicy {
public:
    // `origins`: exact origins such as "https://example.com", or "*".
    explicit CorsPolicy(std::vector<std::string> origins);

    bool enabled() const { return !origins_.empty(); }
    bool allows(std::string_view origin) const;

    // Headers for an actual (non-preflight) response to a request that
    // carried `origin` (empty when the request had no Origin header).
    HeaderList response_headers(std::string_view origin) const;

    // Headers for an OPTIONS preflight of a resource that accepts
    // `methods` (e.g. "GET" or "POST, DELETE").
    HeaderList preflight_headers(std::string_view origin, std::string_view methods) const;

    // Request headers a preflight may ask for.
    static constexpr std::string_view kAllowedHeaders = "Last-Event-ID, Authorization, Content-Type, Idempotency-Key";
    // Response headers a page's script may read besides the safelisted ones
    // (Content-Type...): without this a cross-origin fetch() could not see
    // that a publish was a repeat, when to retry, or why it was refused.
    static constexpr std::string_view kExposedHeaders = "Idempotent-Replayed, Retry-After, WWW-Authenticate";
    // How long a browser may cache a preflight answer, in seconds.
    static constexpr std::string_view kPreflightMaxAge = "600";

private:
    std::vector<std::string> origins_;
    bool any_ = false;
};

}  // namespace sse
