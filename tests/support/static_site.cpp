#include "static_site.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace sse::test {

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

// The first bytes of a PNG file: binary, with a NUL, to catch a server that
// treats bodies as C strings.
std::string png_bytes() {
    const unsigned char bytes[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                   0x00, 0x00, 0x00, 0x0d, 'I',  'H', 'D', 'R'};
    return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

}  // namespace

const std::string& StaticSite::secret() {
    static const std::string text = "SECRET-5f3a9c-must-never-be-served\n";
    return text;
}

const std::vector<SiteFile>& StaticSite::files() {
    static const std::vector<SiteFile> list = {
        {"/index.html", "<!doctype html>\n<title>fixture</title>\n<p>index page</p>\n",
         "text/html; charset=utf-8"},
        {"/style.css", "body { color: #333; }\n", "text/css; charset=utf-8"},
        {"/app.js", "console.log(\"app\");\n", "text/javascript; charset=utf-8"},
        {"/data.json", "{\"answer\": 42}\n", "application/json"},
        {"/logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n", "image/svg+xml"},
        {"/pixel.png", png_bytes(), "image/png"},
    };
    return list;
}

const SiteFile& StaticSite::file(const std::string& target) {
    for (const SiteFile& f : files()) {
        if (f.target == target) return f;
    }
    throw std::runtime_error("no fixture file " + target);
}

StaticSite::StaticSite() {
    std::string tmpl = (fs::temp_directory_path() / "sse-site-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    }
    root_ = tmpl;
    const fs::path www = root_ / "www";
    write_file(root_ / "secret.txt", secret());
    for (const SiteFile& f : files()) write_file(www / f.target.substr(1), f.content);
    write_file(www / "a" / "b", "the file a/b\n");
    fs::create_symlink("../secret.txt", www / "escape.txt");
    fs::create_directory_symlink("..", www / "outside");
    fs::create_symlink("style.css", www / "inside.css");
}

StaticSite::~StaticSite() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);  // does not follow the symbolic links
}

}  // namespace sse::test
