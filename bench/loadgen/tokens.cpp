#include "tokens.h"

#include <ctime>

#include "auth/jwt.h"

namespace sse_load {

namespace {

// A JSON string for a topic name. Valid names need no escaping; quotes and
// backslashes are escaped anyway, so a bad name is refused by the server
// as a bad name rather than as a broken token.
std::string json_string(const std::string& text) {
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    return quoted + "\"";
}

}  // namespace

Tokens::Tokens(const Options& options) : token_(options.token), key_(options.token_key) {
    // Wall-clock seconds, as "exp" is; an hour past the run's bound, so no
    // stream is ended by its token during a run.
    exp_s_ = static_cast<std::int64_t>(std::time(nullptr)) + static_cast<std::int64_t>(options.duration_s) + 3600;
}

std::string Tokens::header_for(const std::vector<std::string>& topics) const {
    std::string token = token_;
    if (!key_.empty()) {
        std::string grants;
        for (const std::string& topic : topics) grants += (grants.empty() ? "" : ",") + json_string(topic);
        std::string claims = R"({"sub":"sse-load","exp":)" + std::to_string(exp_s_) + R"(,"sse":{"subscribe":[)" +
                             grants + "]}}";
        token = sse::sign_token_hs256(R"({"alg":"HS256","typ":"JWT"})", claims, key_);
    }
    if (token.empty()) return {};
    return "Authorization: Bearer " + token + "\r\n";
}

}  // namespace sse_load
