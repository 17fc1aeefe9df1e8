#include "app/idempotency.h"

#include <algorithm>

#include "http/http_parser.h"

namespace sse {

namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::string_view kInFlight = "inflight";

// The body of an RFC 8941 String (section 4.2.5) that opens `value`, with
// its escapes undone; false unless the closing quote ends `value`.
bool read_quoted(std::string_view value, std::string& key, std::string& error) {
    for (std::size_t i = 1; i < value.size(); ++i) {
        auto c = static_cast<unsigned char>(value[i]);
        if (c == '"') {
            if (i + 1 == value.size()) return true;
            error = "nothing may follow the closing quote of an Idempotency-Key (no parameters, no list)";
            return false;
        }
        if (c == '\\') {
            if (++i == value.size() || (value[i] != '"' && value[i] != '\\')) {
                error = "an Idempotency-Key string escapes only \\\" and \\\\";
                return false;
            }
            c = static_cast<unsigned char>(value[i]);
        } else if (c < 0x20 || c > 0x7e) {
            error = "an Idempotency-Key holds printable ASCII only";
            return false;
        }
        key += static_cast<char>(c);
    }
    error = "the Idempotency-Key string has no closing quote";
    return false;
}

void add_length(Sha256& hash, std::size_t length) {
    std::uint8_t bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(length) >> (8 * i));
    hash.update(std::span<const std::uint8_t>(bytes));
}

int hex_value(char c) {
    std::size_t at = kHexDigits.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

std::optional<std::string> parse_idempotency_key(std::string_view value, std::string& error) {
    std::string key;
    if (!value.empty() && value.front() == '"') {
        if (!read_quoted(value, key, error)) return std::nullopt;
    } else if (std::all_of(value.begin(), value.end(), is_tchar)) {
        key = value;
    } else {
        error = "an Idempotency-Key is a quoted string (\"...\") or a token";
        return std::nullopt;
    }
    if (key.empty()) {
        error = "an empty Idempotency-Key names nothing";
        return std::nullopt;
    }
    if (key.size() > kMaxIdempotencyKeyBytes) {
        error = "an Idempotency-Key is at most " + std::to_string(kMaxIdempotencyKeyBytes) + " bytes";
        return std::nullopt;
    }
    return key;
}

FingerprintBuilder& FingerprintBuilder::add(std::string_view name, std::string_view value) {
    add_length(hash_, name.size());
    hash_.update(name);
    add_length(hash_, value.size());
    hash_.update(value);
    return *this;
}

IdempotencyOutcome judge(const IdempotencyRecord& held, const Fingerprint& fingerprint) {
    if (held.fingerprint != fingerprint) return IdempotencyOutcome::Mismatch;
    return held.answer ? IdempotencyOutcome::Replay : IdempotencyOutcome::InFlight;
}

std::string encode_record(const IdempotencyRecord& record) {
    std::string value;
    value.reserve(2 * record.fingerprint.size() + 16 + (record.answer ? record.answer->body.size() : 0));
    for (std::uint8_t byte : record.fingerprint) value.append({kHexDigits[byte >> 4], kHexDigits[byte & 15]});
    value += '|';
    if (!record.answer) return value.append(kInFlight);
    return value.append(std::to_string(record.answer->status)).append("|").append(record.answer->body);
}

std::optional<IdempotencyRecord> decode_record(std::string_view value) {
    IdempotencyRecord record;
    constexpr std::size_t kHexLength = 2 * kSha256DigestBytes;
    if (value.size() < kHexLength + 1 || value[kHexLength] != '|') return std::nullopt;
    for (std::size_t i = 0; i < kSha256DigestBytes; ++i) {
        int high = hex_value(value[2 * i]);
        int low = hex_value(value[2 * i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        record.fingerprint[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    std::string_view rest = value.substr(kHexLength + 1);
    if (rest == kInFlight) return record;
    // "<status>|<body>": three digits, 100 to 599.
    if (rest.size() < 4 || rest[3] != '|' || rest[0] < '1' || rest[0] > '5' ||
        !std::all_of(rest.begin(), rest.begin() + 3, [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    int status = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
    record.answer = StoredAnswer{status, std::string(rest.substr(4))};
    return record;
}

IdempotencyStore::IdempotencyStore(std::size_t max_keys, std::size_t max_bytes, Millis window_ms)
    : max_keys_(max_keys), max_bytes_(max_bytes), window_ms_(window_ms) {}

std::size_t IdempotencyStore::cost(const std::string& key, const Entry& entry) {
    return 2 * key.size() + (entry.record.answer ? entry.record.answer->body.size() : 0) +
           kIdempotencyEntryOverheadBytes;
}

IdempotencyOutcome IdempotencyStore::begin(const std::string& key, const Fingerprint& fingerprint, Millis now,
                                           StoredAnswer& answer) {
    forget_expired(now);
    if (auto it = entries_.find(key); it != entries_.end()) {
        IdempotencyOutcome outcome = judge(it->second.record, fingerprint);
        if (outcome == IdempotencyOutcome::Replay) answer = *it->second.record.answer;
        return outcome;
    }
    order_.push_back(key);
    Entry entry{IdempotencyRecord{fingerprint, std::nullopt}, now + window_ms_, std::prev(order_.end())};
    bytes_ += cost(key, entry);
    entries_.emplace(key, std::move(entry));
    make_room();
    return IdempotencyOutcome::Proceed;
}

void IdempotencyStore::settle(const std::string& key, StoredAnswer answer) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    bytes_ -= cost(key, it->second);
    it->second.record.answer = std::move(answer);
    bytes_ += cost(key, it->second);
    make_room();
}

void IdempotencyStore::forget_expired(Millis now) {
    while (!order_.empty()) {
        auto it = entries_.find(order_.front());
        if (it->second.expires > now) return;
        erase(it);
    }
}

// Oldest out first, until both limits hold. The newest key may go too,
// if it alone breaks a limit: then it is simply not remembered.
void IdempotencyStore::make_room() {
    while (!order_.empty() && (entries_.size() > max_keys_ || bytes_ > max_bytes_)) {
        erase(entries_.find(order_.front()));
        ++evictions_;
    }
}

void IdempotencyStore::erase(std::unordered_map<std::string, Entry>::iterator it) {
    bytes_ -= cost(it->first, it->second);
    order_.erase(it->second.age);
    entries_.erase(it);
}

}  // namespace sse
