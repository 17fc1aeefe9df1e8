// Static files from --www: content types, HEAD, and never a byte from
// outside the folder.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/server_process.h"
#include "../support/static_site.h"

using namespace sse::test;

namespace {

void check_serves(const Response& response, const SiteFile& file) {
    CHECK(response.status == 200);
    CHECK(response.header("Content-Type") == file.content_type);
    CHECK(response.header("Content-Length") == std::to_string(file.content.size()));
    CHECK(response.body == file.content);
}

// A refusal: some 4xx, and nothing of the secret file outside the folder.
void check_refused(const Response& response) {
    CHECK(response.status >= 400);
    CHECK(response.status < 500);
    CHECK(response.body.find(StaticSite::secret()) == std::string::npos);
}

}  // namespace

TEST_CASE("GET / serves index.html as UTF-8 HTML with its exact length") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Response response = fetch(server.port(), make_request("GET", "/"));
    check_serves(response, StaticSite::file("/index.html"));
}

TEST_CASE("HEAD / sends the GET headers and no body") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Response get = fetch(server.port(), make_request("GET", "/"));

    Connection conn = Connection::open(server.port());
    Response head = exchange(conn, make_request("HEAD", "/"));
    CHECK(head.status == get.status);
    CHECK(head.header("Content-Type") == get.header("Content-Type"));
    CHECK(head.header("Content-Length") == get.header("Content-Length"));
    // A body would be waiting before the answer to this second request.
    Response next = exchange(conn, make_request("GET", "/style.css"));
    CHECK(next.status == 200);
    CHECK(next.body == StaticSite::file("/style.css").content);
}

TEST_CASE("each file is served with the Content-Type of its extension") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Connection conn = Connection::open(server.port());
    for (const SiteFile& file : StaticSite::files()) {
        CAPTURE(file.target);
        check_serves(exchange(conn, make_request("GET", file.target)), file);
    }
}

TEST_CASE("a symbolic link that stays inside the folder is served") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Response response = fetch(server.port(), make_request("GET", "/inside.css"));
    CHECK(response.status == 200);
    CHECK(response.body == StaticSite::file("/style.css").content);
}

TEST_CASE("paths that would leave the folder are refused") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    const std::vector<std::string> targets = {
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/a/../../secret.txt",
        "/a%2fb",                 // a/b exists, but an encoded slash is refused
        "/%00",
        "/index.html%00.png",
        "/escape.txt",            // symbolic link to ../secret.txt
        "/outside/secret.txt",    // through a symbolic link to ..
    };
    for (const std::string& target : targets) {
        SUBCASE(target.c_str()) {
            Response response = fetch(server.port(), make_request("GET", target));
            check_refused(response);
        }
    }
    // The secret's absolute path after a second '/': a server that strips the
    // first '/' and joins the rest onto the folder gets an absolute path.
    // (Not a SUBCASE: doctest names subcases, and this path differs per run.)
    Response response = fetch(server.port(), make_request("GET", "/" + site.secret_path()));
    CAPTURE(site.secret_path());
    check_refused(response);
}

TEST_CASE("the file an encoded slash was refused for is reachable by its real path") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Response response = fetch(server.port(), make_request("GET", "/a/b"));
    CHECK(response.status == 200);
    CHECK(response.body == "the file a/b\n");
}
