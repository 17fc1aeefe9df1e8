// The demo of private topics; the contract is in demo_tokens.h.
#include "app/demo_tokens.h"

#include "auth/jwt.h"
#include "http/url.h"
#include "loop/event_loop.h"
#include "server/connection.h"
#include "server/router.h"
#include "server/server.h"

namespace sse {

namespace {

// A demo user id: 1 to 32 of A-Z a-z 0-9 _ -, so it is one topic segment.
bool is_valid_user(std::string_view user) {
    if (user.empty() || user.size() > 32) return false;
    for (char c : user) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::string random_demo_key() {
    std::random_device device;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string key;
    for (int i = 0; i < 64; ++i) key += kHex[device() % 16];
    return key;
}

DemoTokens::DemoTokens(Server& server, std::string key, std::string cookie_name)
    : server_(server), key_(std::move(key)), cookie_name_(std::move(cookie_name)), rng_(std::random_device{}()) {}

void DemoTokens::install() {
    server_.router().add("GET", "/demo/token", [this](Connection& connection, const Request& request, std::string_view) {
        std::string user = query_param(request.query, "user").value_or("");
        if (user.empty()) user = "u" + std::to_string(std::uniform_int_distribution<int>(100000, 999999)(rng_));
        if (!is_valid_user(user)) {
            connection.respond(Response::text(400, "user= takes 1-32 of A-Z a-z 0-9 _ -"));
            return;
        }
        std::int64_t expires_s = wall_clock_s() + kDemoTokenSeconds;
        std::string token = mint(user, expires_s);
        Response response;
        response.content_type = "application/json";
        response.body = "{\"user\":\"" + user + "\",\"token\":\"" + token + "\",\"subscribe\":\"private.user." + user +
                        ".**\",\"expires_at\":" + std::to_string(expires_s) + "}\n";
        // HttpOnly: the page's scripts never see it; EventSource sends it.
        response.headers.emplace_back("Set-Cookie", cookie_name_ + "=" + token + "; Path=/; Max-Age=" +
                                                        std::to_string(kDemoTokenSeconds) + "; HttpOnly; SameSite=Lax");
        response.headers.emplace_back("Cache-Control", "no-store");
        connection.respond(std::move(response));
    });
}

std::string DemoTokens::mint(std::string_view user, std::int64_t expires_s) const {
    std::string mine = "\"private.user." + std::string(user) + ".**\"";
    std::string payload = "{\"sub\":\"" + std::string(user) + "\",\"exp\":" + std::to_string(expires_s) +
                          ",\"sse\":{\"subscribe\":[" + mine + "],\"publish\":[" + mine + "]}}";
    return sign_token_hs256("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, key_);
}

}  // namespace sse
