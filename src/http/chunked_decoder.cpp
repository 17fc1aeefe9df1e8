#include "http/chunked_decoder.h"

#include "http/url.h"

namespace sse {

//
// chunked-body = *chunk last-chunk trailer-section CRLF      (RFC 9112 7.1)
// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
// The size must be followed by a chunk extension or the line end, and the
// extension must follow its grammar exactly: lenient parsing ("5 ", "0x5",
// a quote left open) is a known way to smuggle requests past proxies,
// which may disagree with us on where the line ends.

namespace {
// A chunk size of 16 hex digits fills 64 bits; one more could overflow.
constexpr int kMaxChunkSizeDigits = 16;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 5.6.4)
bool is_qdtext(char c) {
    auto u = static_cast<unsigned char>(c);
    return is_blank(c) || (u >= 0x21 && c != '"' && c != '\\' && u != 0x7F);
}

// What a backslash may quote: HTAB / SP / VCHAR / obs-text.
bool is_quotable(char c) {
    auto u = static_cast<unsigned char>(c);
    return c == '\t' || (u >= 0x20 && u != 0x7F);
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
    int digit = hex_digit_value(c);
    if (digit >= 0) {
        if (size_digits_ == kMaxChunkSizeDigits) return fail(400);
        chunk_size_ = chunk_size_ * 16 + static_cast<std::uint64_t>(digit);
        ++size_digits_;
        return;
    }
    if (size_digits_ == 0) return fail(400);
    if (c == ';' || is_blank(c)) {
        // This byte is the extension's first: judged and counted there.
        phase_ = Phase::Extension;
        extension_phase_ = ExtensionPhase::BeforeSemicolon;
        read_extension_char(c, max_body);
    } else if (c == '\r') {
        phase_ = Phase::SizeLf;
    } else if (c == '\n') {
        end_size_line(max_body);
    } else {
        fail(400);
    }
}

// The line may end only after a whole extension: a name, a token value or
// a closing quote. Anywhere else a CR or LF is just a byte that cannot come.
void ChunkedDecoder::read_extension_char(char c, std::uint64_t max_body) {
    bool complete = extension_phase_ == ExtensionPhase::Name || extension_phase_ == ExtensionPhase::Token ||
                    extension_phase_ == ExtensionPhase::AfterQuoted;
    if (complete && c == '\r') {
        phase_ = Phase::SizeLf;
        return;
    }
    if (complete && c == '\n') return end_size_line(max_body);
    if (++extension_bytes_ > kMaxChunkExtensionBytes) return fail(400);
    std::optional<ExtensionPhase> next = next_extension_phase(extension_phase_, c);
    if (!next) return fail(400);
    extension_phase_ = *next;
}

// The grammar of chunk-ext as a transition table, one phase per case.
std::optional<ChunkedDecoder::ExtensionPhase> ChunkedDecoder::next_extension_phase(ExtensionPhase at, char c) {
    using P = ExtensionPhase;
    switch (at) {
    case P::BeforeSemicolon:
        if (is_blank(c)) return at;
        if (c == ';') return P::BeforeName;
        break;
    case P::BeforeName:
        if (is_blank(c)) return at;
        if (is_tchar(c)) return P::Name;
        break;
    case P::Name:
        if (is_tchar(c)) return at;
        if (is_blank(c)) return P::AfterName;
        if (c == '=') return P::BeforeValue;
        if (c == ';') return P::BeforeName;
        break;
    case P::AfterName:
        if (is_blank(c)) return at;
        if (c == '=') return P::BeforeValue;
        if (c == ';') return P::BeforeName;
        break;
    case P::BeforeValue:
        if (is_blank(c)) return at;
        if (is_tchar(c)) return P::Token;
        if (c == '"') return P::Quoted;
        break;
    case P::Token:
        if (is_tchar(c)) return at;
        if (is_blank(c)) return P::BeforeSemicolon;
        if (c == ';') return P::BeforeName;
        break;
    case P::Quoted:
        if (c == '"') return P::AfterQuoted;
        if (c == '\\') return P::QuotedPair;
        if (is_qdtext(c)) return at;
        break;
    case P::QuotedPair:
        if (is_quotable(c)) return P::Quoted;
        break;
    case P::AfterQuoted:
        if (is_blank(c)) return P::BeforeSemicolon;
        if (c == ';') return P::BeforeName;
        break;
    }
    return std::nullopt;
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
