#include "http/cors.h"

#include <algorithm>

namespace sse {

CorsPolicy::CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {
    any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool CorsPolicy::allows(std::string_view origin) const {
    if (origin.empty() || origin == "null") return false;
    if (any_) return true;
    return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

HeaderList CorsPolicy::response_headers(std::string_view origin) const {
    HeaderList headers;
    if (!enabled() || origin.empty()) return headers;
    // The answer depends on Origin, so shared caches must key on it.
    headers.emplace_back("Vary", "Origin");
    if (!allows(origin)) return headers;
    headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    headers.emplace_back("Access-Control-Allow-Credentials", "true");
    headers.emplace_back("Access-Control-Expose-Headers", std::string(kExposedHeaders));
    return headers;
}

HeaderList CorsPolicy::preflight_headers(std::string_view origin, std::string_view methods) const {
    HeaderList headers = response_headers(origin);
    if (!allows(origin)) return headers;
    headers.emplace_back("Access-Control-Allow-Methods", std::string(methods));
    headers.emplace_back("Access-Control-Allow-Headers", std::string(kAllowedHeaders));
    headers.emplace_back("Access-Control-Max-Age", std::string(kPreflightMaxAge));
    return headers;
}

}  // namespace sse
