#include "chunked_decoder.h"

namespace sse {

//
// chunked-body = *chunk last-chunk trailer-section CRLF      (RFC 9112 7.1)
// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
// The size must be followed directly by ';' or the line end: lenient size
// parsing ("5 ", "0x5") is a known way to smuggle requests past proxies.

namespace {
// A chunk size of 16 hex digits fills 64 bits; one more could overflow.
constexpr int kMaxChunkSizeDigits = 16;

// Chunk extensions carry nothing we use, so they are skipped, but only this
// far: skipping without a bound would let a peer keep us busy forever.
constexpr std::size_t kMaxChunkExtensionBytes = 1024;

bool is_control(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7F;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::size_t ChunkedDecoder::feed(std::string_view input, std::string& out,
                                 std::uint64_t max_body) {
    std::size_t pos = 0;
    while (pos < input.size() && state_ == State::NeedMore) {
        if (phase_ == Phase::Data) {
            pos += copy_data(input.substr(pos), out);
        } else {
            step(input[pos++], max_body);
        }
    }
    return pos;
}

void ChunkedDecoder::step(char c, std::uint64_t max_body) {
    switch (phase_) {
    case Phase::Size: return read_size_char(c, max_body);
    case Phase::Extension: return read_extension_char(c, max_body);
    case Phase::SizeLf: return c == '\n' ? end_size_line(max_body) : fail(400);
    case Phase::Data: return;  // copy_data() takes these bytes in bulk
    case Phase::DataEnd:
        if (c == '\r') {
            phase_ = Phase::DataLf;
            return;
        }
        return c == '\n' ? start_size_line() : fail(400);
    case Phase::DataLf: return c == '\n' ? start_size_line() : fail(400);
    case Phase::Trailer:
    case Phase::TrailerLf: return read_trailer_char(c);
    }
}

void ChunkedDecoder::read_size_char(char c, std::uint64_t max_body) {
    int digit = hex_value(c);
    if (digit >= 0) {
        if (size_digits_ == kMaxChunkSizeDigits) return fail(400);
        chunk_size_ = chunk_size_ * 16 + static_cast<std::uint64_t>(digit);
        ++size_digits_;
        return;
    }
    if (size_digits_ == 0) return fail(400);
    if (c == ';') {
        phase_ = Phase::Extension;
    } else if (c == '\r') {
        phase_ = Phase::SizeLf;
    } else if (c == '\n') {
        end_size_line(max_body);
    } else {
        fail(400);
    }
}

void ChunkedDecoder::read_extension_char(char c, std::uint64_t max_body) {
    if (c == '\r') {
        phase_ = Phase::SizeLf;
    } else if (c == '\n') {
        end_size_line(max_body);
    } else if (is_control(c) || ++extension_bytes_ > kMaxChunkExtensionBytes) {
        fail(400);
    }
}

// The body limit is checked against the announced size, before any of the
// chunk's data is stored.
void ChunkedDecoder::end_size_line(std::uint64_t max_body) {
    if (chunk_size_ == 0) {
        phase_ = Phase::Trailer;
    } else if (decoded_ > max_body || chunk_size_ > max_body - decoded_) {
        fail(413);
    } else {
        phase_ = Phase::Data;
    }
}

std::size_t ChunkedDecoder::copy_data(std::string_view input, std::string& out) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size_, input.size()));
    out.append(input.data(), n);
    chunk_size_ -= n;
    decoded_ += n;
    if (chunk_size_ == 0) phase_ = Phase::DataEnd;
    return n;
}

void ChunkedDecoder::start_size_line() {
    phase_ = Phase::Size;
    chunk_size_ = 0;
    size_digits_ = 0;
    extension_bytes_ = 0;
}

// Trailer fields are read and dropped: nothing here needs them. They are
// bounded like the header section, and the empty line ends the body.
void ChunkedDecoder::read_trailer_char(char c) {
    if (++trailer_bytes_ > kMaxHeaderBytes) return fail(431);
    if (phase_ == Phase::TrailerLf) return c == '\n' ? end_trailer_line() : fail(400);
    if (c == '\r') {
        phase_ = Phase::TrailerLf;
    } else if (c == '\n') {
        end_trailer_line();
    } else if (is_control(c)) {
        fail(400);
    } else {
        ++trailer_line_bytes_;
    }
}

void ChunkedDecoder::end_trailer_line() {
    if (trailer_line_bytes_ == 0) {
        state_ = State::Done;
        return;
    }
    trailer_line_bytes_ = 0;
    phase_ = Phase::Trailer;
}

void ChunkedDecoder::fail(int status) {
    state_ = State::Error;
    error_status_ = status;
}

}  // namespace sse
