// A request whose answer is deferred: a publish with --redis waits for
// Redis to take the event. A FakeRedis that holds the XADD keeps it waiting
// as long as the test likes, so the requests pipelined behind it can be
// watched: the server reads only a bounded amount of them, starts their
// header deadline only once the publish is answered, then answers them in
// order.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "../support/client.h"
#include "../support/fake_redis.h"
#include "../support/server_process.h"

using namespace sse::test;

namespace {

// As in src/server/connection.h: unread bytes allowed behind a deferred answer,
// and the most that one read can add past that.
constexpr std::size_t kMaxDeferredInputBytes = 1024 * 1024;
constexpr std::size_t kReadChunkBytes = 16 * 1024;

// Reads unlabelled samples from /metrics, counting the bytes of its own
// requests, which the server's sse_bytes_read_total counts too.
class Metrics {
public:
    explicit Metrics(std::uint16_t port) : port_(port) {}

    // The sample's value, or -1 when /metrics has no such sample.
    double value(const std::string& name) {
        Response response = fetch(port_, kRequest);
        request_bytes_ += kRequest.size();
        std::size_t at = response.body.find("\n" + name + " ");
        return at == std::string::npos ? -1 : std::stod(response.body.substr(at + name.size() + 2));
    }
    std::size_t request_bytes() const { return request_bytes_; }

private:
    inline static const std::string kRequest = make_request("GET", "/metrics");
    std::uint16_t port_;
    std::size_t request_bytes_ = 0;
};

}  // namespace

TEST_CASE("hardening: behind a publish waiting for Redis, a connection is read only up to a bound") {
    FakeRedis redis;
    // The pipelined bytes start a header deadline; a long one keeps it out
    // of this test.
    ServerProcess server({"--no-demo", "--redis", redis.address(), "--header-timeout-ms", "600000"});
    redis.bring_up(server.port());
    Metrics metrics(server.port());
    double read_before = metrics.value("sse_bytes_read_total");
    REQUIRE(read_before >= 0);

    Connection publisher = Connection::open(server.port());
    const std::string publish = make_request("POST", "/publish?topic=t", "Content-Length: 5\r\n") + "hello";
    publisher.send_all(publish);
    FakeRedis::Command xadd = redis.next_command();
    REQUIRE(xadd.words.at(0) == "XADD");  // unanswered: the publish now waits

    // Requests of about 4 KiB pipelined behind it, twice the bound in all.
    const std::string request = make_request("GET", "/healthz", "X-Pad: " + std::string(4000, 'p') + "\r\n");
    std::string pipelined;
    while (pipelined.size() < 2 * kMaxDeferredInputBytes) pipelined += request;

    // Send what the socket takes until the server says it stopped reading.
    std::size_t sent = 0;
    double pauses = 0;
    const Deadline deadline = deadline_in(kGuardTimeout);
    while (pauses < 1 && Clock::now() < deadline) {
        sent += publisher.send_available(std::string_view(pipelined).substr(sent));
        pauses = metrics.value("sse_deferred_input_pauses_total");
    }
    CHECK(pauses == 1);
    // What it read of the pipelined bytes: everything it read since, less
    // the publish and the /metrics requests.
    double read_after = metrics.value("sse_bytes_read_total");
    double pipelined_read = read_after - read_before - static_cast<double>(publish.size() + metrics.request_bytes());
    CHECK(pipelined_read > static_cast<double>(kMaxDeferredInputBytes));
    CHECK(pipelined_read <= static_cast<double>(kMaxDeferredInputBytes + kReadChunkBytes));

    // Redis takes the event: the publish is answered, then every request
    // behind it, the ones still unsent included.
    redis.reply(xadd, "$15\r\n1700000000000-0\r\n");
    Response published = read_response(publisher);
    CHECK(published.status == 200);
    CHECK(published.body.find("\"id\":\"1700000000000-0\"") != std::string::npos);
    publisher.send_all(std::string_view(pipelined).substr(sent));
    std::size_t healthy = 0;
    for (std::size_t i = 0; i < pipelined.size() / request.size(); ++i) {
        if (read_response(publisher).status == 200) ++healthy;
    }
    CHECK(healthy == pipelined.size() / request.size());
    CHECK(metrics.value("sse_deferred_input_pauses_total") == 1);
}

TEST_CASE("deferred: a request pipelined behind a publish waiting for Redis gets its header deadline only once the publish is answered") {
    FakeRedis redis;
    ServerProcess server({"--no-demo", "--redis", redis.address(), "--header-timeout-ms", "200"});
    redis.bring_up(server.port());
    Metrics metrics(server.port());

    Connection publisher = Connection::open(server.port());
    publisher.send_all(make_request("POST", "/publish?topic=t", "Content-Length: 5\r\n") + "hello" +
                       "GET /healthz HTTP/1.1\r\nHo");   // the next request, its head unfinished
    FakeRedis::Command xadd = redis.next_command();
    REQUIRE(xadd.words.at(0) == "XADD");
    // Redis holds the publish for three header deadlines: none may fire, since
    // the server is not reading the next request yet (a 408 now would go out
    // as the publish's answer, and the publish's answer as the next one's).
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    CHECK(metrics.value("sse_timeouts_total{kind=\"header\"}") == 0);

    redis.reply(xadd, "$15\r\n1700000000000-0\r\n");
    Response published = read_response(publisher);
    CHECK(published.status == 200);
    CHECK(published.body.find("\"id\":\"1700000000000-0\"") != std::string::npos);
    // Now the unfinished head has its 200 ms, and gets its 408 after them.
    Response late = read_response(publisher);
    CHECK(late.status == 408);
    CHECK(publisher.wait_for_close());
}

TEST_CASE("deferred: the pipelined request, finished after the publish is answered, is answered in order") {
    FakeRedis redis;
    ServerProcess server({"--no-demo", "--redis", redis.address(), "--header-timeout-ms", "200"});
    redis.bring_up(server.port());
    Connection publisher = Connection::open(server.port());
    publisher.send_all(make_request("POST", "/publish?topic=t", "Content-Length: 5\r\n") + "hello" +
                       "GET /healthz HTTP/1.1\r\nHo");
    FakeRedis::Command xadd = redis.next_command();
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    redis.reply(xadd, "$15\r\n1700000000000-0\r\n");
    CHECK(read_response(publisher).status == 200);
    publisher.send_all("st: x\r\n\r\n");
    Response health = read_response(publisher);
    CHECK(health.status == 200);
    CHECK(health.body.find("ok") != std::string::npos);
}
