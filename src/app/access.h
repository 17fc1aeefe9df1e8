// Who may read and publish which topics: the model of private topics.
//
// Without a key nothing changes: every topic is public, and publishing
// follows --publish-token or the loopback rule. With keys (--jwt-key-file,
// repeatable for rotation), a topic is private unless a --public pattern
// covers it, and reading one needs a token (an HS256 JWT, see
// auth/jwt.h) whose "sse.subscribe" patterns cover it; a token whose
// "sse.publish" patterns cover a topic may also publish to it.
//
// A token is looked for, in this order, in "Authorization: Bearer <jwt>"
// (backends, fetch, the npm eventsource client), in the cookie named by
// --jwt-cookie (what a browser's EventSource sends, withCredentials across
// origins), and in ?access_token= (clients that can do neither).
//
// The answers, and what a browser's EventSource does with them: 401 when
// there is no valid token, 403 when a valid token does not grant the
// request; both end an EventSource for good, which is right, since
// retrying with the same credentials cannot succeed. Neither says whether
// a topic exists or has subscribers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwt.h"
#include "http/http_parser.h"
#include "options.h"

namespace sse {

class Access {
public:
    // The policy of `options`: keys, cookie, leeway, audience, --public.
    explicit Access(const Options& options);
    // The demo's policy: one random `key`, and only the topics matching
    // `private_pattern` are private (everything else stays public, exactly
    // as without a key).
    static Access demo(std::string key, std::string private_pattern, const Options& options);

    // False without keys: every topic is public, tokens are not read.
    bool enabled() const { return !keys_.empty(); }
    // True when everyone may read every topic `name_or_pattern` can match.
    bool is_public(std::string_view name_or_pattern) const;

    // The request's token, from the first place that has one; nullopt if
    // none does. (A string: the one in the query is percent-decoded.)
    std::optional<std::string> token_of(const Request& request) const;

    // What a request may do, and until when.
    struct Verdict {
        int status = 0;                     // 0: allowed; else 401 or 403
        std::string reason;                 // for the error body; never the token
        // When the token used is refused from (its exp plus the leeway), in
        // seconds since the epoch; none without a token or an exp.
        std::optional<std::int64_t> expires_s;
    };
    // May the request read every one of `names` (topics and patterns)?
    Verdict may_subscribe(const Request& request, std::span<const std::string> names, std::int64_t now_s) const;
    // Does the request carry a token that grants publishing to every one
    // of `topics`? The token is verified once, whatever their number. (The
    // caller still applies the older rules: --publish-token, loopback.)
    Verdict may_publish_by_token(const Request& request, std::span<const std::string> topics,
                                 std::int64_t now_s) const;
    // The topics among `names` the request may read: for /topics.
    std::vector<std::string> readable(const Request& request, std::vector<std::string> names,
                                      std::int64_t now_s) const;

private:
    Access() = default;
    // Verifies the request's token; error None with claims, or why not.
    TokenCheck check(const Request& request, std::int64_t now_s, bool& present) const;
    std::optional<std::int64_t> expiry(const TokenClaims& claims) const;

    std::vector<HmacKey> keys_;   // made ready once (see HmacKey)
    std::string cookie_;
    std::int64_t leeway_s_ = 0;
    std::string audience_;
    std::vector<std::string> public_;        // --public patterns
    std::vector<std::string> private_only_;  // the demo: only these are private
};

}  // namespace sse
