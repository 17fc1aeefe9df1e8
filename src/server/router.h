// The route table: which handler answers which method and path.
//
// Routes match the raw (still percent-encoded) request path, either exactly
// or by prefix. HEAD is answered by the GET handler (the connection drops
// the body). A path no route claims goes to the fallback, which serves
// static files. The router also owns the method rules: 501 for a method the
// server does not know, 405 with Allow for a known method a path refuses.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_parser.h"

namespace sse {

class Connection;

using Handler = std::function<void(Connection&, const Request&, std::string_view body)>;
// Looks at a request before its body arrives (for "Expect: 100-continue");
// returns false after answering it (401, 403, 400...) when it would refuse.
using Precheck = std::function<bool(Connection&, const Request&)>;

// Whether a route still runs for a connection accepted past --max-conns.
// Refuse: the connection answers 503 itself. Serve: the handler runs, for
// probes (/healthz) and for streams, whose start_stream() then turns the
// browser away with a retry: it will follow (see Connection::start_stream).
enum class AtCapacity { Refuse, Serve };

class Router {
public:
    // `method` is "GET", "POST", ... ; `path` must match exactly.
    void add(std::string method, std::string path, Handler handler, Precheck precheck = nullptr,
             AtCapacity at_capacity = AtCapacity::Refuse);
    // Matches every path that starts with `prefix`.
    void add_prefix(std::string method, std::string prefix, Handler handler,
                    AtCapacity at_capacity = AtCapacity::Refuse);
    // Answers GET and HEAD for paths no route matches.
    void set_fallback(Handler handler) { fallback_ = std::move(handler); }

    // Calls the handler for the request, or answers 404/405/501 itself.
    void dispatch(Connection& connection, const Request& request, std::string_view body) const;

    // Whether the request's body would be accepted, judged from its head:
    // false after answering (404/405/501, or the route's own precheck).
    bool admits_body(Connection& connection, const Request& request) const;

    // True when the request's route was added with AtCapacity::Serve.
    bool serves_at_capacity(const Request& request) const;

    // True for the methods of RFC 9110 (GET, HEAD, POST, PUT, DELETE,
    // CONNECT, OPTIONS, TRACE) and PATCH.
    static bool is_known_method(std::string_view method);

private:
    struct Route {
        std::string method;
        std::string path;
        bool prefix = false;
        Handler handler;
        Precheck precheck;
        AtCapacity at_capacity = AtCapacity::Refuse;
        bool matches_path(std::string_view request_path) const;
    };

    // The route for the request's method and path, or nullptr.
    const Route* find(const Request& request) const;

    std::vector<Route> routes_;
    Handler fallback_;
};

}  // namespace sse
