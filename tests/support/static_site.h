// A throwaway folder for --www tests, created fresh under /tmp and removed
// when the test ends:
//
//   <root>/secret.txt         outside the served folder: must never be served
//   <root>/www/               the folder given to --www (www_dir())
//       index.html style.css app.js data.json logo.svg pixel.png
//       a/b                   reachable only as /a/b, never as /a%2fb
//       escape.txt  -> ../secret.txt   symbolic links leaving the folder
//       outside     -> ..
//       inside.css  -> style.css       a symbolic link that stays inside
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sse::test {

struct SiteFile {
    std::string target;        // request path, e.g. "/style.css"
    std::string content;       // exact bytes on disk
    std::string content_type;  // the Content-Type the server must send
};

class StaticSite {
public:
    StaticSite();   // creates the folder; throws std::runtime_error on failure
    ~StaticSite();  // removes it
    StaticSite(const StaticSite&) = delete;
    StaticSite& operator=(const StaticSite&) = delete;

    // The folder to pass to --www.
    std::string www_dir() const { return (root_ / "www").string(); }
    // The absolute path of the secret file next to (outside) the folder.
    std::string secret_path() const { return (root_ / "secret.txt").string(); }
    // The secret file's content; no response may ever contain it.
    static const std::string& secret();

    // The regular files served at top level, one per content type.
    static const std::vector<SiteFile>& files();
    // A file from files() by request path; throws if there is none.
    static const SiteFile& file(const std::string& target);

private:
    std::filesystem::path root_;
};

}  // namespace sse::test
