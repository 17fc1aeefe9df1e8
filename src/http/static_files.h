// Serving the files of one folder (www/) over HTTP, and never anything else.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sse {

// A file larger than this is not served (the folder holds a teaching page,
// not downloads); the answer is 403 with a reason.
inline constexpr std::size_t kMaxStaticFileBytes = 16 * 1024 * 1024;

// The Content-Type for a file name, from its extension (html, css, js, mjs,
// json, svg, png, ico, txt, map); "application/octet-stream" otherwise.
std::string_view content_type_for(std::string_view file_name);

struct StaticFile {
    int status = 200;          // 200, or 301, 400, 403, 404 with `reason`
    std::string reason;        // short plain-text explanation for errors
    std::string_view content_type;  // set when status == 200 (static storage)
    std::string body;          // file contents when status == 200
    std::string location;      // set when status == 301 (directory without '/')
};

class StaticFiles {
public:
    // Serves files below `root`. Returns nullopt with `error` set when the
    // folder does not exist or is not a directory.
    static std::optional<StaticFiles> open(const std::string& root, std::string& error);

    // Looks up a request path, still percent-encoded as it came in the
    // request-target (no query). "/" and any path ending in '/' mean the
    // index.html inside. Refuses (400/403/404) anything that would leave the
    // folder: "..", its encoded forms, encoded slashes, NUL, and symbolic
    // links whose target is outside the folder.
    StaticFile lookup(std::string_view raw_path) const;

    const std::string& root() const { return root_; }

private:
    explicit StaticFiles(std::string root) : root_(std::move(root)) {}
    std::string root_;  // canonical absolute path, no trailing '/'
};

}  // namespace sse
