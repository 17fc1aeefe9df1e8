// The demo of private topics, for the teaching page: in demo mode (demo
// feeds on, no --jwt-key-file) the server makes a random key at start,
// treats only the topics under kDemoPrivatePattern as private, and hands
// out short-lived tokens for one demo user's namespace:
//
//   GET /demo/token[?user=ID]  -> {"user":ID,"token":JWT,"subscribe":"private.user.ID.**",
//                                  "expires_at":S}  and the cookie --jwt-cookie
//
// Neither the endpoint nor the private namespace exists when a real key is
// configured or the demo is off: then this file is not used at all.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace sse {

class Server;

// The one private namespace of the demo.
inline constexpr std::string_view kDemoPrivatePattern = "private.**";
// How long a demo token lives: short, so the page can show a stream ending
// when its token expires and the browser coming back with a renewed one.
inline constexpr std::int64_t kDemoTokenSeconds = 20;

// A random HS256 key for the demo (64 hex digits: 256 bits).
std::string random_demo_key();

class DemoTokens {
public:
    DemoTokens(Server& server, std::string key, std::string cookie_name);
    // Registers GET /demo/token.
    void install();

private:
    std::string mint(std::string_view user, std::int64_t expires_s) const;

    Server& server_;
    std::string key_;
    std::string cookie_name_;
    std::mt19937 rng_;
};

}  // namespace sse
