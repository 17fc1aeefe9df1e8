// Private topics against the real server: who may subscribe and publish
// with which token, where a token may come from, every refusal (401 with no
// valid token, 403 with one that does not grant), a stream ending when its
// token expires, what /topics and /metrics reveal, tokens kept out of the
// log, key files, and the demo's private namespace. Tokens are minted here
// with the server's own HS256 code (tests/browser and tests/auth use real
// JWT libraries).
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"
#include "auth/jwt.h"

using namespace sse::test;

namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef-first-key";
const std::string kOtherKey = "fedcba9876543210fedcba9876543210-second-key";
const std::string kHeader = R"({"alg":"HS256","typ":"JWT"})";

std::int64_t now_s() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

// A key file that removes itself.
struct KeyFile {
    std::string path;
    explicit KeyFile(const std::string& key) {
        char name[] = "/tmp/sse-key-XXXXXX";
        int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        std::string line = key + "\n";
        REQUIRE(::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()));
        ::close(fd);
        path = name;
    }
    ~KeyFile() { std::remove(path.c_str()); }
};

// A token granting `subscribe` and `publish` (JSON arrays) for an hour.
std::string token(const std::string& subscribe, const std::string& publish = "[]", const std::string& key = kKey,
                  const std::string& extra = "") {
    std::string payload = R"({"sub":"alice","exp":)" + std::to_string(now_s() + 3600) + extra +
                          R"(,"sse":{"subscribe":)" + subscribe + R"(,"publish":)" + publish + "}}";
    return sse::sign_token_hs256(kHeader, payload, key);
}

std::string bearer(const std::string& jwt) { return "Authorization: Bearer " + jwt + "\r\n"; }

Response get(std::uint16_t port, const std::string& target, const std::string& headers = "") {
    Connection conn = Connection::open(port);
    conn.send_all(make_request("GET", target, headers));
    return read_response(conn);  // a stream's body stays unread
}

Response post(std::uint16_t port, const std::string& query, const std::string& headers = "") {
    return fetch(port, make_request("POST", "/publish?" + query, headers + "Content-Length: 1\r\n") + "x");
}

}  // namespace

TEST_CASE("private: with a key, a private topic needs a token that grants it; public ones do not") {
    KeyFile key(kKey);
    ServerProcess server({"--no-demo", "--jwt-key-file", key.path, "--public", "news", "--public", "open.**"});
    CHECK(get(server.port(), "/latest/news").status == 200);
    CHECK(get(server.port(), "/latest/open.a.b").status == 200);

    Response none = get(server.port(), "/latest/user.42.orders");
    CHECK(none.status == 401);
    CHECK(none.header("WWW-Authenticate") == "Bearer");
    CHECK(get(server.port(), "/latest/user.42.orders", bearer(token(R"(["user.42.*"])"))).status == 200);
    Response other = get(server.port(), "/latest/user.43.orders", bearer(token(R"(["user.42.*"])")));
    CHECK(other.status == 403);
    // A multi-topic stream needs every topic granted; patterns need covering.
    CHECK(get(server.port(), "/latest?type=news,user.42.a", bearer(token(R"(["user.42.*"])"))).status == 200);
    CHECK(get(server.port(), "/latest?type=user.42.a,user.43.a", bearer(token(R"(["user.42.*"])"))).status == 403);
    CHECK(get(server.port(), "/latest/user.42.*", bearer(token(R"(["user.42.**"])"))).status == 200);
    CHECK(get(server.port(), "/latest/user.42.**", bearer(token(R"(["user.42.*"])"))).status == 403);
    // The answer never says whether a topic exists: the same 403 for all.
    HubPublisher(server.port()).publish("user.43.exists", "x");
    CHECK(get(server.port(), "/latest/user.43.exists", bearer(token(R"(["user.42.*"])"))).body == other.body);
}

TEST_CASE("private: a granted stream receives its events; the grant decides, not the connection") {
    KeyFile key(kKey);
    ServerProcess server({"--no-demo", "--jwt-key-file", key.path});
    HubSubscriber mine(server.port(), "/latest/user.42.*", bearer(token(R"(["user.42.**"])")));
    REQUIRE(mine.head().status == 200);
    HubPublisher publisher(server.port());
    publisher.publish("user.43.orders", "not mine");
    std::string id = publisher.publish("user.42.orders", "mine");
    SseEvent event = mine.next();
    CHECK(id_of(event) == id);
    CHECK(event.type == "user.42.orders");
}

TEST_CASE("private: a token may come in Authorization, the cookie, or ?access_token=") {
    KeyFile key(kKey);
    ServerProcess server({"--no-demo", "--jwt-key-file", key.path, "--jwt-cookie", "my_token"});
    std::string jwt = token(R"(["t"])");
    CHECK(get(server.port(), "/latest/t", bearer(jwt)).status == 200);
    CHECK(get(server.port(), "/latest/t", "Cookie: a=1; my_token=" + jwt + "; b=2\r\n").status == 200);
    CHECK(get(server.port(), "/latest/t", "Cookie: sse_token=" + jwt + "\r\n").status == 401);  // not the name set
    CHECK(get(server.port(), "/latest/t?access_token=" + jwt).status == 200);
    CHECK(get(server.port(), "/latest?type=t&access_token=" + jwt).status == 200);
}

TEST_CASE("private: every kind of bad token is 401, and no answer repeats it") {
    KeyFile key(kKey);
    ServerProcess server({"--no-demo", "--jwt-key-file", key.path, "--jwt-audience", "sse-test", "--jwt-leeway", "0"});
    const std::string grant = R"({"subscribe":["t"]})";
    auto mint = [&](const std::string& header, const std::string& claims, const std::string& k = kKey) {
        return sse::sign_token_hs256(header, R"({"sse":)" + grant + claims + "}", k);
    };
    const std::string aud = R"(,"aud":"sse-test")";
    const std::string good = mint(kHeader, aud);
    REQUIRE(get(server.port(), "/latest/t", bearer(good)).status == 200);
    std::string tampered = good;
    tampered[tampered.find('.') + 3] ^= 1;
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"alg none", mint(R"({"alg":"none"})", aud)},
        {"alg RS256", mint(R"({"alg":"RS256"})", aud)},
        {"wrong key", mint(kHeader, aud, kOtherKey)},
        {"tampered payload", tampered},
        {"not base64url", "a.b!.c"},
        {"not three parts", "abc"},
        {"payload not JSON", sse::sign_token_hs256(kHeader, "not json", kKey)},
        {"exp a string", mint(kHeader, aud + R"(,"exp":"soon")")},
        {"expired", mint(kHeader, aud + R"(,"exp":)" + std::to_string(now_s() - 10))},
        {"not yet valid", mint(kHeader, aud + R"(,"nbf":)" + std::to_string(now_s() + 600))},
        {"other audience", mint(kHeader, R"(,"aud":"elsewhere")")},
        {"no audience", mint(kHeader, "")},
        {"over the size cap", mint(kHeader, aud + R"(,"pad":")" + std::string(sse::kMaxTokenBytes, 'p') + "\"")},
    };
    for (const auto& [what, jwt] : bad) {
        CAPTURE(what);
        Response refused = get(server.port(), "/latest/t", bearer(jwt));
        CHECK(refused.status == 401);
        CHECK(refused.body.find(jwt.substr(0, 20)) == std::string::npos);
    }
}

TEST_CASE("private: keys rotate: a token signed by any configured key is valid") {
    KeyFile first(kKey), second(kOtherKey);
    ServerProcess server({"--no-demo", "--jwt-key-file", first.path, "--jwt-key-file", second.path});
    CHECK(get(server.port(), "/latest/t", bearer(token(R"(["t"])", "[]", kKey))).status == 200);
    CHECK(get(server.port(), "/latest/t", bearer(token(R"(["t"])", "[]", kOtherKey))).status == 200);
    CHECK(get(server.port(), "/latest/t", bearer(token(R"(["t"])", "[]", kKey + "x"))).status == 401);
}

TEST_CASE("private: a token's publish patterns let it publish and end topics, besides the publish token") {
    KeyFile key(kKey);
    ServerProcess server({"--no-demo", "--jwt-key-file", key.path, "--publish-token", "operator"});
    const std::string may = bearer(token("[]", R"(["chat.*"])"));
    CHECK(post(server.port(), "topic=chat.room1", may).status == 200);
    CHECK(post(server.port(), "topic=other", may).status == 403);
    CHECK(post(server.port(), "topic=chat.room1").status == 401);
    CHECK(post(server.port(), "topic=chat.room1", bearer(token("[]", R"(["chat.*"])", kOtherKey))).status == 401);
    CHECK(post(server.port(), "topic=other", "Authorization: Bearer operator\r\n").status == 200);
    CHECK(fetch(server.port(), make_request("DELETE", "/publish?topic=chat.room1", may)).status == 200);
    CHECK(fetch(server.port(), make_request("DELETE", "/publish?topic=other", may)).status == 403);
    // The operator's token reads every topic too.
    CHECK(get(server.port(), "/latest/anything", "Authorization: Bearer operator\r\n").status == 200);
}

TEST_CASE("private: a stream ends when its token expires; a renewed token resumes it, losing nothing") {
    KeyFile key(kKey);
    ServerProcess server({"--no-demo", "--jwt-key-file", key.path, "--jwt-leeway", "0", "--retry-ms", "500"});
    auto expiring = [&](std::int64_t in_s) {
        return sse::sign_token_hs256(kHeader, R"({"exp":)" + std::to_string(now_s() + in_s) +
                                                  R"(,"sse":{"subscribe":["t"]}})", kKey);
    };
    for (int round = 0; round < 3; ++round) {  // several expiries in a row
        CAPTURE(round);
        HubSubscriber sub(server.port(), "/latest/t", bearer(expiring(2)));
        REQUIRE(sub.head().status == 200);
        std::string before = HubPublisher(server.port()).publish("t", "before expiry");
        CHECK(id_of(sub.next()) == before);
        // The token expires: a last retry: and the close.
        CHECK_FALSE(sub.next_event(deadline_in(kGuardTimeout)).has_value());
        CHECK(sub.reader().retry().has_value());
        // Published while away; the expired token is refused; a fresh one
        // resumes from the last id with nothing missing.
        std::string missed = HubPublisher(server.port()).publish("t", "while away");
        CHECK(get(server.port(), "/latest/t", bearer(expiring(-1))).status == 401);
        HubSubscriber back(server.port(), "/latest/t", bearer(expiring(60)) + "Last-Event-ID: " + before + "\r\n");
        CHECK(id_of(back.next()) == missed);
    }
}

TEST_CASE("private: presence of a private topic needs the right to subscribe to it, and ends with the token") {
    KeyFile key(kKey);
    ServerProcess server({"--no-demo", "--jwt-key-file", key.path, "--jwt-leeway", "0", "--public", "news",
                          "--publish-token", "operator-secret"});
    Response none = get(server.port(), "/presence?type=user.42.room");
    CHECK(none.status == 401);
    CHECK(none.header("WWW-Authenticate") == "Bearer");
    // Granted for another topic, or for one of two: 403, saying nothing of the room.
    Response other = get(server.port(), "/presence?type=user.42.room", bearer(token(R"(["user.43.*"])")));
    CHECK(other.status == 403);
    CHECK(get(server.port(), "/presence?type=news,user.42.room", bearer(token(R"(["user.43.*"])"))).status == 403);
    CHECK(get(server.port(), "/presence?type=news").status == 200);   // public
    CHECK(get(server.port(), "/presence?type=user.42.room", "Authorization: Bearer operator-secret\r\n").status == 200);

    HubSubscriber in_room(server.port(), "/latest/user.42.room", bearer(token(R"(["user.42.*"])")));
    REQUIRE(in_room.head().status == 200);
    HubSubscriber watcher(server.port(), "/presence?type=user.42.room,news", bearer(token(R"(["user.42.*"])")));
    REQUIRE(watcher.head().status == 200);
    SseEvent first = watcher.next();
    CHECK(first.type == "presence");
    CHECK(json_field(first.data, "topic") == "user.42.room");
    CHECK(json_field(first.data, "subscribers") == "1");

    // A token that expires ends the presence stream with a retry:, as it
    // ends a stream.
    std::string expiring = sse::sign_token_hs256(
        kHeader, R"({"exp":)" + std::to_string(now_s() + 2) + R"(,"sse":{"subscribe":["user.42.*"]}})", kKey);
    HubSubscriber brief(server.port(), "/presence?type=user.42.room", bearer(expiring));
    REQUIRE(brief.head().status == 200);
    CHECK(brief.next().type == "presence");
    CHECK_FALSE(brief.next_event(deadline_in(kGuardTimeout)).has_value());
    CHECK(brief.reader().retry().has_value());
}

TEST_CASE("private: /topics and /metrics never name a private topic to someone who may not read it") {
    KeyFile key(kKey);
    ServerProcess server({"--no-demo", "--jwt-key-file", key.path, "--public", "news", "--publish-token", "operator"});
    HubPublisher publisher(server.port(), "Authorization: Bearer operator\r\n");
    publisher.publish("news", "x");
    publisher.publish("user.42.secret", "x");
    publisher.publish("user.43.secret", "x");
    HubSubscriber holder(server.port(), "/latest/user.43.secret", bearer(token(R"(["user.43.*"])")));
    Response metrics = fetch(server.port(), make_request("GET", "/metrics"));
    CHECK(metrics.body.find("user.4") == std::string::npos);
    CHECK(metrics.body.find("sse_other_topics_subscribers 1") != std::string::npos);
    Response mine = fetch(server.port(), make_request("GET", "/topics", bearer(token(R"(["user.42.*"])"))));
    CHECK(mine.status == 200);
    CHECK(mine.body.find("user.42.secret") != std::string::npos);
    CHECK(mine.body.find("news") != std::string::npos);
    CHECK(mine.body.find("user.43") == std::string::npos);
    CHECK(fetch(server.port(), make_request("GET", "/topics/user.43.secret", bearer(token(R"(["user.42.*"])"))))
              .status == 403);
    CHECK(fetch(server.port(), make_request("GET", "/topics/user.43.nothing", bearer(token(R"(["user.42.*"])"))))
              .status == 403);
    Response all = fetch(server.port(), make_request("GET", "/topics", "Authorization: Bearer operator\r\n"));
    CHECK(all.body.find("user.43.secret") != std::string::npos);
    CHECK(fetch(server.port(), make_request("GET", "/topics")).status == 401);
}

TEST_CASE("private: a token in ?access_token= never reaches the access log") {
    KeyFile key(kKey);
    char log_name[] = "/tmp/sse-log-XXXXXX";
    int fd = ::mkstemp(log_name);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::string jwt = token(R"(["t"])");
    {
        ServerProcess server({"--no-demo", "--jwt-key-file", key.path, "--access-log"}, log_name);
        CHECK(get(server.port(), "/latest/t?access_token=" + jwt).status == 200);
        CHECK(get(server.port(), "/latest/u?access_token=" + jwt + "&lastEventId=1").status == 403);
        CHECK(server.stop() == 0);
    }
    std::ifstream file(log_name);
    std::stringstream text;
    text << file.rdbuf();
    std::remove(log_name);
    CAPTURE(text.str());
    CHECK(text.str().find("access_token=REDACTED") != std::string::npos);
    CHECK(text.str().find(jwt.substr(0, 16)) == std::string::npos);
}

TEST_CASE("private: key files follow the token-file rules, and a short key is refused") {
    KeyFile short_key("too-short");
    RunResult short_run = run_to_exit({"--no-demo", "--port", "0", "--jwt-key-file", short_key.path});
    CHECK(short_run.exit_status == 2);
    CHECK(short_run.err.find("at least 32") != std::string::npos);
    RunResult missing = run_to_exit({"--no-demo", "--port", "0", "--jwt-key-file", "/nonexistent/key"});
    CHECK(missing.exit_status == 2);
    CHECK(run_to_exit({"--public", "a.**.b"}).exit_status == 2);
}

TEST_CASE("private: the demo's namespace and token endpoint exist only in demo mode without a key") {
    ServerProcess demo({"--heartbeat-ms", "60000"});
    Response minted = fetch(demo.port(), make_request("GET", "/demo/token?user=ann"));
    REQUIRE(minted.status == 200);
    std::string jwt = json_field(minted.body, "token");
    CHECK(json_field(minted.body, "subscribe") == "private.user.ann.**");
    CHECK(minted.header("Set-Cookie").find("sse_token=" + jwt) == 0);
    CHECK(minted.header("Set-Cookie").find("HttpOnly") != std::string::npos);
    CHECK(get(demo.port(), "/latest/news").status == 200);  // everything else stays public
    CHECK(get(demo.port(), "/latest/private.user.ann.inbox").status == 401);
    CHECK(get(demo.port(), "/latest/private.user.ann.inbox", "Cookie: sse_token=" + jwt + "\r\n").status == 200);
    CHECK(get(demo.port(), "/latest/private.user.bob.inbox", "Cookie: sse_token=" + jwt + "\r\n").status == 403);
    CHECK(fetch(demo.port(), make_request("GET", "/demo/token?user=bad%20name")).status == 400);

    ServerProcess off({"--no-demo"});
    CHECK(fetch(off.port(), make_request("GET", "/demo/token")).status == 404);
    CHECK(get(off.port(), "/latest/private.user.ann.inbox").status == 200);  // no key: public
    KeyFile key(kKey);
    ServerProcess keyed({"--jwt-key-file", key.path, "--heartbeat-ms", "60000"});
    CHECK(fetch(keyed.port(), make_request("GET", "/demo/token")).status == 404);
    CHECK(get(keyed.port(), "/latest/private.user.ann.inbox", "Cookie: sse_token=" + jwt + "\r\n").status == 401);
}
