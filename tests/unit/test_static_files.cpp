// Static files: a real folder tree under /tmp, looked up through a table of
// request paths, including every escape route the lookup must refuse.
#include "http/static_files.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <sys/stat.h>

namespace fs = std::filesystem;
using sse::StaticFile;
using sse::StaticFiles;

namespace {

void write_file(const fs::path& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    REQUIRE(out.good());
}

// A temporary tree, removed again when the test ends (also when it fails):
//
//   <tmp>/secret                  outside the root
//   <tmp>/www2/file               outside, in a sibling whose name extends "www"
//   <tmp>/www/                    the root
//       index.html  style.css  .hidden  fifo  big.txt  exact.txt
//       emptydir/               a directory without index.html
//       sub/index.html
//       sub/up.html  -> ../index.html      link inside the root
//       inside.css   -> style.css          link inside the root
//       dir_link     -> sub                link to a directory inside
//       to_hidden    -> .hidden            link to a hidden name
//       outside      -> ../secret          relative link leaving the root
//       outside_abs  -> <tmp>/secret       absolute link leaving the root
//       outdir       -> ..                 link to the directory above
//       sibling      -> ../www2/file       prefix of the root, but outside
class TempTree {
public:
    TempTree() {
        char pattern[] = "/tmp/sse-static-XXXXXX";
        REQUIRE(::mkdtemp(pattern) != nullptr);
        base_ = pattern;
        build();
    }
    ~TempTree() {
        std::error_code ignored;
        fs::remove_all(base_, ignored);  // removes links, never their targets
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;

    fs::path base() const { return base_; }
    fs::path root() const { return base_ / "www"; }

private:
    void build() {
        const fs::path www = root();
        fs::create_directories(www / "sub");
        fs::create_directories(www / "emptydir");
        fs::create_directories(base_ / "www2");
        write_file(base_ / "secret", "top secret");
        write_file(base_ / "www2" / "file", "sibling secret");
        write_file(www / "index.html", "<h1>home</h1>");
        write_file(www / "style.css", "body{}");
        write_file(www / ".hidden", "hidden");
        write_file(www / "sub" / "index.html", "<h1>sub</h1>");
        write_file(www / "big.txt", "");
        fs::resize_file(www / "big.txt", sse::kMaxStaticFileBytes + 1);  // sparse
        write_file(www / "exact.txt", "");
        fs::resize_file(www / "exact.txt", sse::kMaxStaticFileBytes);
        REQUIRE(::mkfifo((www / "fifo").c_str(), 0600) == 0);
        fs::create_symlink("../index.html", www / "sub" / "up.html");
        fs::create_symlink("style.css", www / "inside.css");
        fs::create_directory_symlink("sub", www / "dir_link");
        fs::create_symlink(".hidden", www / "to_hidden");
        fs::create_symlink("../secret", www / "outside");
        fs::create_symlink(base_ / "secret", www / "outside_abs");
        fs::create_directory_symlink("..", www / "outdir");
        fs::create_symlink("../www2/file", www / "sibling");
    }

    fs::path base_;
};

StaticFiles open_root(const fs::path& root) {
    std::string error;
    std::optional<StaticFiles> files = StaticFiles::open(root, error);
    REQUIRE_MESSAGE(files.has_value(), error);
    return std::move(*files);
}

constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kCss = "text/css; charset=utf-8";
constexpr std::string_view kText = "text/plain; charset=utf-8";

// One lookup and what it must give. `detail` is the body for 200 and the
// Location for 301; `type` is the Content-Type for 200.
struct LookupCase {
    std::string_view path;
    int status;
    std::string_view detail = {};
    std::string_view type = {};
};

constexpr LookupCase kLookupCases[] = {
    // Served files and directory indexes.
    {"/", 200, "<h1>home</h1>", kHtml},
    {"/index.html", 200, "<h1>home</h1>", kHtml},
    {"/style.css", 200, "body{}", kCss},
    {"/%73tyle.css", 200, "body{}", kCss},
    {"/sub/", 200, "<h1>sub</h1>", kHtml},
    {"/sub/index.html", 200, "<h1>sub</h1>", kHtml},
    {"//sub//index.html", 200, "<h1>sub</h1>", kHtml},
    // Directories without their trailing '/'; the raw spelling is kept.
    {"/sub", 301, "/sub/"},
    {"/%73ub", 301, "/%73ub/"},
    {"/emptydir", 301, "/emptydir/"},
    {"/dir_link", 301, "/dir_link/"},
    {"/dir_link/", 200, "<h1>sub</h1>", kHtml},
    // Links that stay inside the root are followed.
    {"/inside.css", 200, "body{}", kCss},
    {"/sub/up.html", 200, "<h1>home</h1>", kHtml},
    // Nothing to serve.
    {"/missing", 404},
    {"/missing/", 404},
    {"/emptydir/", 404},
    {"/index.html/", 404},
    {"/fifo", 404},
    // "." and ".." segments, raw or encoded, and hidden names.
    {"/../secret", 404},
    {"/%2e%2e/secret", 404},
    {"/%2E%2e/secret", 404},
    {"/sub/%2e%2e/index.html", 404},
    {"/sub/..", 404},
    {"/sub/.", 404},
    {"/a/./b", 404},
    {"/./index.html", 404},
    {"/.hidden", 404},
    {"/%2ehidden", 404},
    // Links leading outside the root, or to a hidden name.
    {"/outside", 404},
    {"/outside_abs", 404},
    {"/outdir/secret", 404},
    {"/sibling", 404},
    {"/to_hidden", 404},
    // Malformed paths.
    {"", 400},
    {"index.html", 400},
    {"/sub/..%2fsecret", 400},
    {"/sub/..%2Fsecret", 400},
    {"/a%2fb", 400},
    {"/a%5cb", 400},
    {"/a%5Cb", 400},
    {"/a\\b", 400},
    {"/..\\secret", 400},
    {"/%00", 400},
    {{"/a\0b", 4}, 400},
    {"/sub\r\nx", 400},
    {"/%zz", 400},
    {"/%", 400},
    {"/%4", 400},
    {"/%4g", 400},
    {"/%g4", 400},
    // Size limit.
    {"/big.txt", 403},
};

}  // namespace

TEST_CASE("static files: lookup table") {
    TempTree tree;
    const StaticFiles files = open_root(tree.root());
    for (const LookupCase& c : kLookupCases) {
        CAPTURE(c.path);
        const StaticFile got = files.lookup(c.path);
        CHECK(got.status == c.status);
        if (c.status == 200) {
            CHECK(got.body == c.detail);
            CHECK(got.content_type == c.type);
        } else {
            CHECK(got.body.empty());
            CHECK_FALSE(got.reason.empty());
        }
        if (c.status == 301) CHECK(got.location == c.detail);
    }
}

TEST_CASE("static files: a file of exactly the size limit is served") {
    TempTree tree;
    const StaticFile got = open_root(tree.root()).lookup("/exact.txt");
    CHECK(got.status == 200);
    CHECK(got.body.size() == sse::kMaxStaticFileBytes);
    CHECK(got.content_type == kText);
}

TEST_CASE("static files: a file over the size limit is refused with a reason") {
    TempTree tree;
    const StaticFile got = open_root(tree.root()).lookup("/big.txt");
    CHECK(got.status == 403);
    CHECK(got.reason == "file too large");
}

TEST_CASE("static files: open canonicalises the root") {
    TempTree tree;
    const fs::path link = tree.base() / "root_link";
    fs::create_directory_symlink("www", link);
    const StaticFiles files = open_root(link.string() + "/");
    CHECK(files.root() == fs::canonical(tree.root()).string());
    CHECK(files.lookup("/").status == 200);
    CHECK(files.lookup("/../secret").status == 404);
}

TEST_CASE("static files: open refuses a missing root or a file") {
    TempTree tree;
    std::string error;
    CHECK_FALSE(StaticFiles::open((tree.base() / "nope").string(), error).has_value());
    CHECK_FALSE(error.empty());
    error.clear();
    CHECK_FALSE(StaticFiles::open((tree.base() / "secret").string(), error).has_value());
    CHECK_FALSE(error.empty());
}

TEST_CASE("static files: content type by extension") {
    struct TypeCase {
        std::string_view name;
        std::string_view type;
    };
    constexpr TypeCase kTypeCases[] = {
        {"index.html", kHtml},
        {"old.htm", kHtml},
        {"INDEX.HTML", kHtml},
        {"style.css", kCss},
        {"app.js", "text/javascript; charset=utf-8"},
        {"APP.Js", "text/javascript; charset=utf-8"},
        {"module.mjs", "text/javascript; charset=utf-8"},
        {"data.json", "application/json"},
        {"app.js.map", "application/json"},
        {"logo.svg", "image/svg+xml"},
        {"logo.PNG", "image/png"},
        {"favicon.ico", "image/x-icon"},
        {"notes.txt", kText},
        {"/www/sub/page.html", kHtml},
        {"archive.tar.gz", "application/octet-stream"},
        {"Makefile", "application/octet-stream"},
        {"trailing.", "application/octet-stream"},
        {"dir.css/file", "application/octet-stream"},
        {"", "application/octet-stream"},
    };
    for (const TypeCase& c : kTypeCases) {
        CAPTURE(c.name);
        CHECK(sse::content_type_for(c.name) == c.type);
    }
}
