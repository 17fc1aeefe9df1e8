#include "app/routes.h"

#include "server/connection.h"
#include "server/server.h"
#include "http/static_files.h"

namespace sse {

void install_static_files(Server& server, const StaticFiles& files) {
    server.router().set_fallback([&files](Connection& connection, const Request& request, std::string_view) {
        StaticFile file = files.lookup(request.path);
        if (file.status != 200) {
            Response response = Response::text(file.status, file.reason.empty() ? "not found" : file.reason);
            if (file.status == 301) response.headers.emplace_back("Location", file.location);
            connection.respond(std::move(response));
            return;
        }
        Response response;
        response.content_type = file.content_type;
        response.body = std::move(file.body);
        // The page is for learning and changes while people edit it.
        response.headers.emplace_back("Cache-Control", "no-cache");
        connection.respond(std::move(response));
    });
}

}  // namespace sse
