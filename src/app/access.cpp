// Who may read and publish which topics; the model is described in access.h.
#include "app/access.h"

#include "http/cookie.h"
#include "http/url.h"
#include "sse/topic_pattern.h"

namespace sse {

namespace {

constexpr std::string_view kBearer = "Bearer ";

}  // namespace

Access::Access(const Options& options)
    : keys_(options.jwt_keys.begin(), options.jwt_keys.end()),
      cookie_(options.jwt_cookie),
      leeway_s_(options.jwt_leeway_s),
      audience_(options.jwt_audience),
      public_(options.public_patterns) {}

Access Access::demo(std::string key, std::string private_pattern, const Options& options) {
    Access access(options);
    access.keys_ = {HmacKey(key)};
    access.private_only_ = {std::move(private_pattern)};
    return access;
}

bool Access::is_public(std::string_view name) const {
    if (!enabled()) return true;
    if (!private_only_.empty()) {
        for (const std::string& p : private_only_)
            if (patterns_overlap(p, name)) return false;
        return true;
    }
    return any_covers(public_, name);
}

std::optional<std::string> Access::token_of(const Request& request) const {
    if (const Header* authorization = request.find("Authorization")) {
        std::string_view value = authorization->value;
        if (value.size() > kBearer.size() && iequals(value.substr(0, kBearer.size()), kBearer)) {
            value.remove_prefix(kBearer.size());
            // RFC 6750 section 2.1: one or more spaces after the scheme.
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            return std::string(value);
        }
    }
    if (std::optional<std::string_view> cookie = cookie_value(request, cookie_)) return std::string(*cookie);
    if (std::optional<std::string> query = query_param(request.query, "access_token")) return query;
    return std::nullopt;
}

TokenCheck Access::check(const Request& request, std::int64_t now_s, bool& present) const {
    std::optional<std::string> token = token_of(request);
    present = token.has_value();
    if (!token) return TokenCheck{TokenError::Malformed, {}};
    return verify_token(*token, keys_, now_s, leeway_s_, audience_);
}

std::optional<std::int64_t> Access::expiry(const TokenClaims& claims) const {
    if (!claims.exp) return std::nullopt;
    return *claims.exp + leeway_s_;  // verify_token refuses it from then on
}

Access::Verdict Access::may_subscribe(const Request& request, std::span<const std::string> names,
                                      std::int64_t now_s) const {
    bool all_public = true;
    for (const std::string& name : names) all_public = all_public && is_public(name);
    if (all_public) return {};
    bool present = false;
    TokenCheck token = check(request, now_s, present);
    if (!present) {
        return {401, "this subscription needs a token: Authorization: Bearer, the " + cookie_ +
                         " cookie, or ?access_token=", std::nullopt};
    }
    if (token.error != TokenError::None) return {401, "the token was refused: " + token_error_reason(token.error), {}};
    for (const std::string& name : names) {
        if (!is_public(name) && !any_covers(token.claims.grant.subscribe, name))
            return {403, "the token does not grant this subscription", std::nullopt};
    }
    return {0, "", expiry(token.claims)};
}

Access::Verdict Access::may_publish_by_token(const Request& request, std::span<const std::string> topics,
                                             std::int64_t now_s) const {
    if (!enabled()) return {401, "no token is accepted for publishing without --jwt-key-file", std::nullopt};
    bool present = false;
    TokenCheck token = check(request, now_s, present);
    if (!present) return {401, "publishing needs a token", std::nullopt};
    if (token.error != TokenError::None) return {401, "the token was refused: " + token_error_reason(token.error), {}};
    for (const std::string& topic : topics) {
        if (!any_covers(token.claims.grant.publish, topic))
            return {403, "the token does not grant publishing to this topic", std::nullopt};
    }
    return {0, "", expiry(token.claims)};
}

std::vector<std::string> Access::readable(const Request& request, std::vector<std::string> names,
                                          std::int64_t now_s) const {
    if (!enabled()) return names;
    bool present = false;
    TokenCheck token = check(request, now_s, present);
    const std::vector<std::string>* grants = token.error == TokenError::None ? &token.claims.grant.subscribe : nullptr;
    std::erase_if(names, [&](const std::string& name) {
        return !is_public(name) && !(grants && any_covers(*grants, name));
    });
    return names;
}

}  // namespace sse
