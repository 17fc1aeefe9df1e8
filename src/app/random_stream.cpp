#include "app/random_stream.h"

#include <string>

#include "server/connection.h"
#include "server/server.h"

namespace sse {

RandomStream::RandomStream(Server& server, std::uint64_t seed) : server_(server), rng_(seed) {}

void RandomStream::install() {
    server_.router().add("GET", "/random", [this](Connection& connection, const Request&, std::string_view) {
        if (connection.start_stream()) schedule_next(connection);
    }, nullptr, AtCapacity::Serve);
}

void RandomStream::schedule_next(Connection& connection) {
    std::uniform_int_distribution<Millis> pause(0, kRandomMaxPauseMs);
    // The timer belongs to the connection: closing it cancels the timer, so
    // the callback never sees a connection that is gone.
    connection.timer() = server_.loop().add_timer(pause(rng_), [this, &connection] { tick(connection); });
}

void RandomStream::tick(Connection& connection) {
    std::uniform_int_distribution<int> number(kRandomMin, kRandomMax);
    connection.send("data: " + std::to_string(number(rng_)) + "\n\n");
    schedule_next(connection);
}

}  // namespace sse
