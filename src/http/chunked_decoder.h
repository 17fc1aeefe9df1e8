// Decoding a "Transfer-Encoding: chunked" request body, incrementally.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/http_parser.h"

namespace sse {

// Chunk extensions carry nothing we use, so they are checked and dropped,
// but only this far: reading them without a bound would let a peer keep us
// busy forever. A longer chunk-ext (from its first ';' or space to the line
// end) is an Error with 400.
inline constexpr std::size_t kMaxChunkExtensionBytes = 1024;

// Incremental decoder for a "Transfer-Encoding: chunked" body (RFC 9112
// section 7.1). Feed it bytes as they arrive; it appends the decoded data to
// `out` and says when the body, trailers included, is complete.
class ChunkedDecoder {
public:
    enum class State { NeedMore, Done, Error };

    // Consumes a prefix of `input` (all of it unless the body ends inside
    // it), appending decoded data to `out`. More than `max_body` decoded
    // bytes in total is an Error with status 413; a malformed chunk size,
    // a size over 16 hex digits, a chunk extension outside RFC 9112's
    // grammar or over kMaxChunkExtensionBytes, or a missing CRLF is an
    // Error with 400. Extensions and trailer fields are dropped; more than
    // kMaxHeaderBytes of trailer fields is 431.
    std::size_t feed(std::string_view input, std::string& out, std::uint64_t max_body);

    State state() const { return state_; }
    int error_status() const { return error_status_; }

private:
    // Where in the chunk grammar the next byte belongs. Data is copied in
    // bulk; every other phase reads one byte at a time.
    enum class Phase { Size, Extension, SizeLf, Data, DataEnd, DataLf, Trailer, TrailerLf };
    // Where inside a chunk extension (RFC 9112 section 7.1.1) the next byte
    // belongs; BWS is optional spaces and tabs:
    //   chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
    enum class ExtensionPhase {
        BeforeSemicolon,  // BWS, then ";"
        BeforeName,       // BWS, then the name
        Name,             // the name (a token)
        AfterName,        // BWS, then "=" or ";"
        BeforeValue,      // BWS, then a token or a quoted-string
        Token,            // a token value
        Quoted,           // inside a quoted-string
        QuotedPair,       // after a backslash inside a quoted-string
        AfterQuoted,      // after the closing quote
    };

    void step(char c, std::uint64_t max_body);
    void read_size_char(char c, std::uint64_t max_body);
    void read_extension_char(char c, std::uint64_t max_body);
    // The phase after byte `c` in phase `at`, or nullopt when `c` cannot
    // come there. Line ends are judged by read_extension_char().
    static std::optional<ExtensionPhase> next_extension_phase(ExtensionPhase at, char c);
    void end_size_line(std::uint64_t max_body);
    std::size_t copy_data(std::string_view input, std::string& out);
    void read_trailer_char(char c);
    void end_trailer_line();
    void start_size_line();
    void fail(int status);

    State state_ = State::NeedMore;
    int error_status_ = 0;
    Phase phase_ = Phase::Size;
    std::uint64_t chunk_size_ = 0;         // size being read, then data bytes left
    int size_digits_ = 0;                  // hex digits of the current size
    ExtensionPhase extension_phase_ = ExtensionPhase::BeforeSemicolon;
    std::size_t extension_bytes_ = 0;      // bytes of the current chunk-ext
    std::uint64_t decoded_ = 0;            // data bytes appended so far
    std::size_t trailer_bytes_ = 0;        // bytes of the trailer section so far
    std::size_t trailer_line_bytes_ = 0;   // bytes of the current trailer line
};

}  // namespace sse
