// Static files: turning a request path into the bytes of one file below the
// root folder, or into the reason it is refused.
//
// Status policy (one place to read it):
//   400  the path itself is malformed: not starting with '/', a control
//        character, a backslash, a bad %-escape, or an escape that decodes to
//        NUL, '/' or '\'. Such a request never names a file.
//   404  everything that is not a file we serve: missing names, "." and ".."
//        segments, hidden names (a segment starting with '.'), symbolic links
//        whose target lies outside the root, and anything that is not a
//        regular file (directories behind "/", fifos, devices). Answering 404
//        rather than 403 for the outside cases reveals nothing about what
//        exists beyond the folder.
//   403  a file we found but will not send: unreadable (EACCES) or larger
//        than kMaxStaticFileBytes.
//   301  a directory named without its trailing '/', so that relative links
//        inside its index.html resolve against the directory.
#include "http/static_files.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "http/url.h"

namespace sse {

namespace {

struct ContentType {
    std::string_view extension;  // lower case, without the dot
    std::string_view type;
};

constexpr ContentType kContentTypes[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"txt", "text/plain; charset=utf-8"},
};

constexpr std::string_view kDefaultContentType = "application/octet-stream";

StaticFile refuse(int status, std::string reason) {
    StaticFile file;
    file.status = status;
    file.reason = std::move(reason);
    return file;
}

char to_lower_ascii(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower_ascii(a[i]) != to_lower_ascii(b[i])) return false;
    }
    return true;
}


// Characters that must not appear raw in a request path. Control characters
// cannot come from a well-formed request-target, and refusing them here also
// keeps the raw path safe to echo back in a Location header.
bool is_forbidden_raw(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f || c == '\\';
}

// Percent-decodes a request path into `out`. Returns false with `reason` set
// for a forbidden raw character, a malformed escape, or an escape decoding to
// NUL, '/' or '\': an encoded separator would let one segment smuggle a second
// one past the segment checks, so it is refused rather than decoded.
// (src/url.h has a general decoder; this one owns the path-specific refusals.)
bool decode_path(std::string_view raw, std::string& out, std::string& reason) {
    out.clear();
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (is_forbidden_raw(c)) {
            reason = "forbidden character in path";
            return false;
        }
        if (c != '%') {
            out.push_back(c);
            continue;
        }
        const int high = i + 2 < raw.size() ? hex_digit_value(raw[i + 1]) : -1;
        const int low = high >= 0 ? hex_digit_value(raw[i + 2]) : -1;
        if (low < 0) {
            reason = "malformed percent-escape in path";
            return false;
        }
        const char decoded = static_cast<char>(high * 16 + low);
        if (decoded == '\0' || decoded == '/' || decoded == '\\') {
            reason = "encoded NUL, slash or backslash in path";
            return false;
        }
        out.push_back(decoded);
        i += 2;
    }
    return true;
}

// True when some '/'-separated segment of `path` starts with '.': that covers
// ".", ".." and hidden names such as ".git" in one rule.
bool has_dot_segment(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        if (end > start && path[start] == '.') return true;
        start = end + 1;
    }
    return false;
}

// The canonical form of `path` (symbolic links, "." and ".." resolved), or
// nullopt with errno set.
std::optional<std::string> canonical_path(const std::string& path) {
    std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr),
                                                         &std::free);
    if (!resolved) return std::nullopt;
    return std::string(resolved.get());
}

// The part of the canonical `path` below `root` ("" for the root itself, else
// starting with '/'), or nullopt when `path` is outside `root`. Comparing
// whole segments matters: "/srv/www2" is not inside "/srv/www".
std::optional<std::string_view> below_root(std::string_view path, std::string_view root) {
    if (root == "/") return path;
    if (!path.starts_with(root)) return std::nullopt;
    std::string_view rest = path.substr(root.size());
    if (!rest.empty() && rest.front() != '/') return std::nullopt;
    return rest;
}

// Owns one file descriptor and closes it when it goes out of scope.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// Reads the whole file behind `fd` into `body`. Returns false on a read
// error, or when the file has grown past kMaxStaticFileBytes since fstat.
bool read_all(int fd, std::size_t expected_size, std::string& body) {
    body.clear();
    body.reserve(expected_size);
    char chunk[64 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        body.append(chunk, static_cast<std::size_t>(n));
        if (body.size() > kMaxStaticFileBytes) return false;
    }
}

// Opens, checks and reads the canonical path of a candidate file.
// O_NOFOLLOW refuses a symbolic link swapped in after realpath(), and the
// checks use fstat on the opened descriptor, so they describe the very file
// that is read. O_NONBLOCK keeps open() from waiting for a fifo's writer.
StaticFile read_regular_file(const std::string& path) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW));
    if (fd.get() < 0) {
        if (errno == EACCES) return refuse(403, "permission denied");
        return refuse(404, "not found");
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return refuse(404, "not found");
    }
    if (static_cast<std::size_t>(info.st_size) > kMaxStaticFileBytes) {
        return refuse(403, "file too large");
    }
    StaticFile file;
    if (!read_all(fd.get(), static_cast<std::size_t>(info.st_size), file.body)) {
        return refuse(403, "file could not be read in full");
    }
    file.content_type = content_type_for(path);
    return file;
}

}  // namespace

std::string_view content_type_for(std::string_view file_name) {
    const std::size_t slash = file_name.rfind('/');
    if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
    const std::size_t dot = file_name.rfind('.');
    if (dot == std::string_view::npos) return kDefaultContentType;
    const std::string_view extension = file_name.substr(dot + 1);
    for (const ContentType& entry : kContentTypes) {
        if (equals_ignoring_case(extension, entry.extension)) return entry.type;
    }
    return kDefaultContentType;
}

std::optional<StaticFiles> StaticFiles::open(const std::string& root, std::string& error) {
    std::optional<std::string> canonical = canonical_path(root);
    if (!canonical) {
        error = "static root " + root + ": " + std::strerror(errno);
        return std::nullopt;
    }
    struct stat info {};
    if (::stat(canonical->c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
        error = "static root " + root + ": not a directory";
        return std::nullopt;
    }
    return StaticFiles(std::move(*canonical));
}

// Checks run from cheapest to the ones that touch the file system, and each
// later check relies on the earlier ones: by the time realpath() runs, the
// decoded path is one plain name per segment, none of them "." or "..".
StaticFile StaticFiles::lookup(std::string_view raw_path) const {
    if (raw_path.empty() || raw_path.front() != '/') {
        return refuse(400, "path must start with '/'");
    }
    std::string decoded;
    std::string reason;
    if (!decode_path(raw_path, decoded, reason)) return refuse(400, reason);
    if (has_dot_segment(decoded)) return refuse(404, "not found");

    const bool wants_index = decoded.back() == '/';
    const std::string candidate = root_ + decoded + (wants_index ? "index.html" : "");
    const std::optional<std::string> resolved = canonical_path(candidate);
    if (!resolved) {
        if (errno == EACCES) return refuse(403, "permission denied");
        return refuse(404, "not found");
    }
    // A link may lead outside the root, or to a hidden name inside it; both
    // are judged on where the link leads, not on the name that was asked for.
    const std::optional<std::string_view> inside = below_root(*resolved, root_);
    if (!inside || has_dot_segment(*inside)) return refuse(404, "not found");

    struct stat info {};
    if (::stat(resolved->c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
        if (wants_index) return refuse(404, "not found");
        StaticFile redirect = refuse(301, "moved permanently");
        redirect.location = std::string(raw_path) + "/";
        return redirect;
    }
    return read_regular_file(*resolved);
}

}  // namespace sse
