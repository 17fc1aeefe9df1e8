#include "server/router.h"

#include "server/connection.h"
#include "http/http_response.h"

namespace sse {

bool Router::Route::matches_path(std::string_view request_path) const {
    return prefix ? request_path.starts_with(path) : request_path == path;
}

void Router::add(std::string method, std::string path, Handler handler, Precheck precheck,
                 AtCapacity at_capacity) {
    routes_.push_back(
        Route{std::move(method), std::move(path), false, std::move(handler), std::move(precheck), at_capacity});
}

void Router::add_prefix(std::string method, std::string prefix, Handler handler, AtCapacity at_capacity) {
    routes_.push_back(Route{std::move(method), std::move(prefix), true, std::move(handler), nullptr, at_capacity});
}

bool Router::serves_at_capacity(const Request& request) const {
    const Route* route = find(request);
    return route && route->at_capacity == AtCapacity::Serve;
}

const Router::Route* Router::find(const Request& request) const {
    std::string_view method = request.method == "HEAD" ? std::string_view("GET") : request.method;
    for (const Route& route : routes_) {
        if (route.method == method && route.matches_path(request.path)) return &route;
    }
    return nullptr;
}

bool Router::admits_body(Connection& connection, const Request& request) const {
    const Route* route = find(request);
    if (!route) {
        dispatch(connection, request, {});  // answers 404, 405 or 501
        return false;
    }
    return !route->precheck || route->precheck(connection, request);
}

bool Router::is_known_method(std::string_view method) {
    static constexpr std::string_view kKnown[] = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                                  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    for (std::string_view known : kKnown)
        if (method == known) return true;
    return false;
}

void Router::dispatch(Connection& connection, const Request& request, std::string_view body) const {
    if (!is_known_method(request.method)) {
        Response response = Response::text(501, "method not implemented");
        response.close = true;
        connection.respond(std::move(response));
        return;
    }
    if (const Route* route = find(request)) {
        route->handler(connection, request, body);
        return;
    }
    std::string_view method = request.method == "HEAD" ? std::string_view("GET") : request.method;
    std::string allow;
    for (const Route& route : routes_) {
        if (!route.matches_path(request.path)) continue;
        if (!allow.empty()) allow += ", ";
        allow += route.method;
        if (route.method == "GET") allow += ", HEAD";
    }
    if (allow.empty() && fallback_) {
        if (method == "GET") {
            fallback_(connection, request, body);
            return;
        }
        allow = "GET, HEAD";
    }
    if (allow.empty()) {
        connection.respond(Response::text(404, "not found"));
        return;
    }
    Response response = Response::text(405, "method not allowed");
    response.headers.emplace_back("Allow", allow);
    connection.respond(std::move(response));
}

}  // namespace sse
