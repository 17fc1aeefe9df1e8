// Command-line parsing: values, defaults, and the exit code 2 contract.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "options.h"

using sse::Options;
using sse::parse_options;

namespace {

sse::ParseOutcome parse(std::vector<std::string_view> args, Options& options) {
    return parse_options(args, options);
}

}  // namespace

TEST_CASE("no flags keeps the defaults") {
    Options options;
    auto outcome = parse({}, options);
    CHECK(outcome.run);
    CHECK(options.port == 8000);
    CHECK(options.bind == "::");
    CHECK(options.presence_interval_ms == 1000);
}

TEST_CASE("flags take their value as the next word or after '='") {
    Options options;
    auto outcome = parse({"--port", "0", "--bind=127.0.0.1", "--www", "/tmp/site"}, options);
    REQUIRE(outcome.run);
    CHECK(options.port == 0);
    CHECK(options.bind == "127.0.0.1");
    CHECK(options.www == "/tmp/site");
}

TEST_CASE("bad flags and values exit 2 with a one-line reason") {
    struct Case {
        std::vector<std::string_view> args;
        std::string_view reason_part;
    };
    const Case cases[] = {
        {{"--nope"}, "unknown option '--nope'"},
        {{"--port"}, "--port needs a value"},
        {{"--port", "abc"}, "--port expects a whole number"},
        {{"--port", "70000"}, "--port expects a whole number from 0 to 65535"},
        {{"--port", "-1"}, "--port expects"},
        {{"--port", "80x"}, "--port expects"},
        {{"--www="}, "--www expects a folder"},
        {{"--presence-interval-ms", "9"}, "--presence-interval-ms expects a whole number from 10 to 3600000"},
        {{"--presence-interval-ms", "3600001"}, "--presence-interval-ms expects"},
    };
    for (const Case& c : cases) {
        Options options;
        auto outcome = parse(c.args, options);
        CAPTURE(c.reason_part);
        CHECK_FALSE(outcome.run);
        CHECK(outcome.exit_code == 2);
        CHECK(outcome.message.find(c.reason_part) != std::string::npos);
        CHECK(outcome.message.find('\n') == std::string::npos);
    }
}

TEST_CASE("--help lists every flag with its default; --version prints it") {
    Options options;
    auto help = parse({"--help"}, options);
    CHECK_FALSE(help.run);
    CHECK(help.exit_code == 0);
    for (std::string_view flag : {"--port N", "--bind ADDR", "--www DIR", "--help", "--version"}) {
        CAPTURE(flag);
        CHECK(help.message.find(flag) != std::string::npos);
    }
    CHECK(help.message.find("(default: 8000)") != std::string::npos);

    auto version = parse({"--version"}, options);
    CHECK_FALSE(version.run);
    CHECK(version.exit_code == 0);
    CHECK(version.message.find(sse::kVersion) != std::string::npos);
}

TEST_CASE("--publish-token-file reads the token from the file's first line") {
    char path_template[] = "/tmp/sse-token-XXXXXX";
    int fd = ::mkstemp(path_template);
    REQUIRE(fd >= 0);
    ::close(fd);
    const std::string path = path_template;
    auto write_file = [&](const std::string& text) { std::ofstream(path, std::ios::binary) << text; };
    auto token_from = [&](const std::string& text, Options& options) {
        write_file(text);
        return parse({"--publish-token-file", path}, options);
    };

    SUBCASE("the first line, without its line end and blanks") {
        Options options;
        CHECK(token_from("  s3cret \r\nsecond line\n", options).run);
        CHECK(options.publish_token == "s3cret");
    }
    SUBCASE("no final newline") {
        Options options;
        CHECK(token_from("tok", options).run);
        CHECK(options.publish_token == "tok");
    }
    SUBCASE("an empty first line, a file over the limit, a missing file: exit 2 with a reason") {
        Options options;
        auto empty = token_from("\ntoken-on-line-2\n", options);
        CHECK_FALSE(empty.run);
        CHECK(empty.exit_code == 2);
        CHECK(empty.message.find("found no token") != std::string::npos);
        auto big = token_from(std::string(sse::kMaxTokenFileBytes + 1, 'x'), options);
        CHECK_FALSE(big.run);
        CHECK(big.message.find("is over 4096 bytes") != std::string::npos);
        auto missing = parse({"--publish-token-file", "/nonexistent/token"}, options);
        CHECK_FALSE(missing.run);
        CHECK(missing.message.find("cannot read '/nonexistent/token'") != std::string::npos);
        CHECK(options.publish_token.empty());
    }
    std::remove(path.c_str());
}
