// Exactly-once publishing: POST /publish with an Idempotency-Key. A repeat
// of the same request within the window gets the first answer and
// publishes nothing; the same key on another request is 422; a malformed
// key is 400; past kMaxIdempotencyKeys the oldest key is forgotten; with
// --redis, a repeat while the first waits for Redis is 409. "Nothing was
// published" is proven with a sentinel: the next event a subscriber gets.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/fake_redis.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

namespace {

// As in src/app/idempotency.h.
constexpr std::size_t kMaxIdempotencyKeyBytes = 255;
constexpr std::size_t kMaxIdempotencyKeys = 10'000;
constexpr long kIdempotencyWindowMs = 10 * 60 * 1000;
constexpr long kIdempotencyInflightMs = 30'000;

// POST /publish?<query> with `body`; `key_line` is "" or a whole header
// line ("Idempotency-Key: ...\r\n").
std::string publish_request(const std::string& query, const std::string& body, const std::string& key_line,
                            const std::string& extra = "") {
    return make_request("POST", "/publish?" + query,
                        key_line + extra + "Content-Length: " + std::to_string(body.size()) + "\r\n") +
           body;
}

std::string key_line(const std::string& value) { return "Idempotency-Key: " + value + "\r\n"; }

Response post(std::uint16_t port, const std::string& query, const std::string& body, const std::string& key,
              const std::string& extra = "") {
    return fetch(port, publish_request(query, body, key, extra));
}

}  // namespace

TEST_CASE("idempotency: the same key and request twice: the first answer again, one event") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest/t");
    Response first = post(server.port(), "topic=t", "once", key_line("\"order-17\""));
    REQUIRE(first.status == 200);
    CHECK_FALSE(first.has("Idempotent-Replayed"));
    // Quoted or bare, the same key; on another connection, as a retry is.
    for (const std::string key : {"\"order-17\"", "order-17"}) {
        Response again = post(server.port(), "topic=t", "once", key_line(key));
        CHECK(again.status == 200);
        CHECK(again.body == first.body);
        CHECK(again.header("Content-Type") == "application/json");
        CHECK(again.header("Idempotent-Replayed") == "true");
    }
    CHECK(id_of(sub.next()) == json_field(first.body, "id"));
    std::string sentinel = HubPublisher(server.port()).publish("t", "sentinel");
    CHECK(id_of(sub.next()) == sentinel);  // the repeats published nothing

    // A different key is a different publish.
    Response other = post(server.port(), "topic=t", "once", key_line("order-18"));
    CHECK(json_field(other.body, "id") != json_field(first.body, "id"));
    CHECK(id_of(sub.next()) == json_field(other.body, "id"));
}

TEST_CASE("idempotency: the same key on another request is 422 and publishes nothing") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest?type=t,u");
    const std::string key = key_line("k1");
    Response first = post(server.port(), "topic=t&topic=u", "body", key);
    REQUIRE(first.status == 200);
    CHECK(id_of(sub.next()) == json_field(first.body, "id"));
    // The same set of topics in another order is the same request.
    CHECK(post(server.port(), "topic=u&topic=t", "body", key).body == first.body);
    struct Other {
        std::string query, body;
    };
    for (const Other& other : std::vector<Other>{
             {"topic=t&topic=u", "other body"},
             {"topic=t", "body"},
             {"topic=t&topic=u&event=e", "body"},
             {"topic=t&topic=u&retry=5000", "body"},
             {"topic=t&topic=u&close=1", "body"},
             {"topic=t&topic=u&ttl=60", "body"},
         }) {
        CAPTURE(other.query);
        CAPTURE(other.body);
        Response refused = post(server.port(), other.query, other.body, key);
        CHECK(refused.status == 422);
        CHECK(refused.body.find("different request") != std::string::npos);
    }
    std::string sentinel = HubPublisher(server.port()).publish("t", "sentinel");
    CHECK(id_of(sub.next()) == sentinel);
}

TEST_CASE("idempotency: a malformed or too long key is 400 and publishes nothing") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest/t");
    const std::string longest(kMaxIdempotencyKeyBytes, 'k');
    CHECK(post(server.port(), "topic=t", "longest", key_line(longest)).status == 200);
    CHECK(sub.next().data == "longest");
    for (const std::string& line : {key_line(longest + "k"), key_line("\"" + longest + "k\""), key_line("\"open"),
                                    key_line("\"\""), key_line("a b"), key_line("\"a\";p=1"),
                                    key_line("\"a\", \"b\""), key_line("a") + key_line("a")}) {
        CAPTURE(line);
        Response refused = post(server.port(), "topic=t", "refused", line);
        CHECK(refused.status == 400);
        CHECK(refused.body.find("Idempotency-Key") != std::string::npos);
    }
    // With Expect: 100-continue the key is judged before the body is sent.
    Connection conn = Connection::open(server.port());
    conn.send_all(make_request("POST", "/publish?topic=t",
                               key_line("\"open") + "Expect: 100-continue\r\nContent-Length: 7\r\n"));
    CHECK(read_response(conn).status == 400);
    std::string sentinel = HubPublisher(server.port()).publish("t", "sentinel");
    CHECK(id_of(sub.next()) == sentinel);
}

TEST_CASE("idempotency: repeats and refusals carry the CORS headers of every answer") {
    ServerProcess server({"--no-demo", "--cors-origin", "http://allowed.example"});
    const std::string origin = "Origin: http://allowed.example\r\n";
    Response first = post(server.port(), "topic=t", "x", key_line("c"), origin);
    Response again = post(server.port(), "topic=t", "x", key_line("c"), origin);
    Response other = post(server.port(), "topic=t", "y", key_line("c"), origin);
    Response bad = post(server.port(), "topic=t", "y", key_line("\"c"), origin);
    CHECK(again.status == 200);
    CHECK(other.status == 422);
    CHECK(bad.status == 400);
    for (const Response* answer : {&first, &again, &other, &bad}) {
        CHECK(answer->header("Access-Control-Allow-Origin") == "http://allowed.example");
    }
    // The page's script may read that the answer is a replay.
    CHECK(again.header("Idempotent-Replayed") == "true");
    CHECK(again.header("Access-Control-Expose-Headers").find("Idempotent-Replayed") != std::string::npos);
    Response preflight = fetch(server.port(), make_request("OPTIONS", "/publish",
                                                           origin + "Access-Control-Request-Method: POST\r\n"));
    CHECK(preflight.header("Access-Control-Allow-Headers").find("Idempotency-Key") != std::string::npos);
}

TEST_CASE("idempotency: past kMaxIdempotencyKeys the oldest key is forgotten: its repeat publishes again") {
    ServerProcess server({"--no-demo"});
    Connection conn = Connection::open(server.port());
    std::vector<std::string> ids;
    // In batches, so the answers never pile up past what the server lets
    // wait unread (kResponseHighWaterBytes).
    constexpr std::size_t kBatch = 1000;
    for (std::size_t from = 0; from <= kMaxIdempotencyKeys; from += kBatch) {
        std::string requests;
        std::size_t to = std::min(from + kBatch, kMaxIdempotencyKeys + 1);
        for (std::size_t i = from; i < to; ++i) {
            requests += publish_request("topic=flood", std::to_string(i), key_line("key-" + std::to_string(i)));
        }
        conn.send_all(requests);
        for (std::size_t i = from; i < to; ++i) {
            Response answer = read_response(conn);
            REQUIRE(answer.status == 200);
            ids.push_back(json_field(answer.body, "id"));
        }
    }
    // key-0 went when key-10000 came; key-2 is still held.
    Response kept = sse::test::exchange(conn, publish_request("topic=flood", "2", key_line("key-2")));
    CHECK(json_field(kept.body, "id") == ids[2]);
    CHECK(kept.header("Idempotent-Replayed") == "true");
    Response forgotten = sse::test::exchange(conn, publish_request("topic=flood", "0", key_line("key-0")));
    CHECK(forgotten.status == 200);
    CHECK_FALSE(forgotten.has("Idempotent-Replayed"));
    CHECK(json_field(forgotten.body, "id") != ids[0]);
    Response metrics = fetch(server.port(), make_request("GET", "/metrics"));
    CHECK(metrics.body.find("\nsse_idempotency_keys 10000\n") != std::string::npos);
    CHECK(metrics.body.find("\nsse_idempotency_evictions_total 2\n") != std::string::npos);
    CHECK(metrics.body.find("sse_idempotent_repeats_total{answer=\"replayed\"} 1\n") != std::string::npos);
}

TEST_CASE("idempotency with --redis: a repeat on B while A's publish waits for XADD is 409; then A's answer") {
    // Two instances on one Redis. (On one instance a repeat queues behind
    // the first's XADD on the same link, so it meets the stored answer.)
    FakeRedis redis;
    ServerProcess a({"--no-demo", "--redis", redis.address()});
    redis.bring_up(a.port());
    ServerProcess b({"--no-demo", "--redis", redis.address()});
    redis.bring_up(b.port());
    const std::string request = publish_request("topic=t", "hello", key_line("\"k\""));

    Connection on_a = Connection::open(a.port());
    on_a.send_all(request);
    FakeRedis::Command claim = redis.next_command();
    REQUIRE(claim.words.size() == 6);
    CHECK(claim.words[0] == "SET");
    CHECK(claim.words[1] == "sse:events:idempotency:k");
    CHECK(claim.words[2].ends_with("|inflight"));
    CHECK(claim.words[3] == "NX");
    CHECK(claim.words[4] == "PX");
    CHECK(claim.words[5] == std::to_string(kIdempotencyInflightMs));
    redis.reply(claim, "+OK\r\n");
    FakeRedis::Command xadd = redis.next_command();
    REQUIRE(xadd.words.at(0) == "XADD");  // unanswered: A's publish is in flight

    // B finds the key held: its SET is refused (nil), its GET gets `held`.
    auto b_finds = [&](const std::string& held) {
        FakeRedis::Command set = redis.next_command();
        CHECK(set.link != claim.link);
        CHECK(set.words.at(0) == "SET");
        redis.reply(set, "$-1\r\n");
        FakeRedis::Command get = redis.next_command();
        CHECK(get.words == std::vector<std::string>{"GET", "sse:events:idempotency:k"});
        redis.reply(get, "$" + std::to_string(held.size()) + "\r\n" + held + "\r\n");
    };
    Connection on_b = Connection::open(b.port());
    on_b.send_all(request);
    b_finds(claim.words[2]);
    Response conflict = read_response(on_b);
    CHECK(conflict.status == 409);
    CHECK(conflict.header("Retry-After") == "1");
    // Another request under the key, meanwhile: 422.
    on_b.send_all(publish_request("topic=t", "bye", key_line("k")));
    b_finds(claim.words[2]);
    CHECK(read_response(on_b).status == 422);

    // Redis takes A's event: A answers and stores its answer.
    redis.reply(xadd, "$15\r\n1700000000000-0\r\n");
    Response answered = read_response(on_a);
    CHECK(answered.status == 200);
    CHECK(json_field(answered.body, "id") == "1700000000000-0");
    FakeRedis::Command settle = redis.next_command();
    REQUIRE(settle.words.size() == 6);
    CHECK(settle.words[0] == "SET");
    CHECK(settle.words[2] == claim.words[2].substr(0, 64) + "|200|" + answered.body);
    CHECK(settle.words[3] == "XX");
    CHECK(settle.words[5] == std::to_string(kIdempotencyWindowMs));
    redis.reply(settle, "+OK\r\n");
    // B's repeat now finds that answer: the same, and nothing XADDed.
    on_b.send_all(request);
    b_finds(settle.words[2]);
    Response replayed = read_response(on_b);
    CHECK(replayed.status == 200);
    CHECK(replayed.body == answered.body);
    CHECK(replayed.header("Idempotent-Replayed") == "true");
}

TEST_CASE("idempotency with --redis: a refused XADD releases the key, so a retry may publish") {
    FakeRedis redis;
    ServerProcess server({"--no-demo", "--redis", redis.address()});
    redis.bring_up(server.port());
    Connection publisher = Connection::open(server.port());
    publisher.send_all(publish_request("topic=t", "hello", key_line("r")));
    FakeRedis::Command claim = redis.next_command();
    REQUIRE(claim.words.at(0) == "SET");
    redis.reply(claim, "+OK\r\n");
    FakeRedis::Command xadd = redis.next_command();
    REQUIRE(xadd.words.at(0) == "XADD");
    redis.reply(xadd, "-OOM command not allowed when used memory > 'maxmemory'\r\n");
    CHECK(read_response(publisher).status == 503);
    FakeRedis::Command release = redis.next_command();
    CHECK(release.words == std::vector<std::string>{"DEL", "sse:events:idempotency:r"});
    redis.reply(release, ":1\r\n");
}
