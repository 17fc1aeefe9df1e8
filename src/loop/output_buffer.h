// A connection's pending output: a queue of shared byte chunks.
//
// Publishing one event to ten thousand subscribers must not copy or format
// it ten thousand times. So the event is encoded once into a Chunk, and each
// subscriber's OutputBuffer holds a reference to it plus an offset saying how
// much of it that subscriber has already written:
//
//      chunk A (shared)         chunk B (shared)        chunk C (own)
//     +------------------+     +-----------------+     +---------+
//     |xxxxxxxx|.........|     |.................|     |.........|
//     +------------------+     +-----------------+     +---------+
//      written  ^ offset        pending                 pending
//
// write_to() hands all pending pieces to one sendmsg() (a writev()), so events that meet in
// one buffer leave in one system call. The segment ring keeps two segments
// inline and moves to the heap only while more are queued, so an idle
// connection's buffer costs a few words and no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sse {

// Immutable bytes shared by reference count within the one loop thread
// (no atomics: nothing here crosses threads).
class Chunk {
public:
    std::string_view bytes() const { return bytes_; }

private:
    friend class ChunkRef;
    explicit Chunk(std::string bytes) : bytes_(std::move(bytes)) {}
    std::string bytes_;
    std::uint32_t refs_ = 0;
};

// Owning handle to a Chunk; copying it shares the chunk.
class ChunkRef {
public:
    ChunkRef() = default;
    static ChunkRef make(std::string bytes);
    ChunkRef(const ChunkRef& other) : chunk_(other.chunk_) { retain(); }
    ChunkRef(ChunkRef&& other) noexcept : chunk_(other.chunk_) { other.chunk_ = nullptr; }
    ChunkRef& operator=(ChunkRef other) noexcept { std::swap(chunk_, other.chunk_); return *this; }
    ~ChunkRef() { release(); }

    explicit operator bool() const { return chunk_ != nullptr; }
    std::string_view bytes() const { return chunk_ ? chunk_->bytes() : std::string_view{}; }
    std::size_t size() const { return bytes().size(); }

private:
    friend class OutputBuffer;
    void retain() { if (chunk_) ++chunk_->refs_; }
    void release();
    Chunk* detach() { Chunk* c = chunk_; chunk_ = nullptr; return c; }
    static ChunkRef adopt(Chunk* c) { ChunkRef r; r.chunk_ = c; return r; }
    Chunk* chunk_ = nullptr;
};

// What one write_to() call achieved.
enum class WriteStatus {
    Drained,  // everything pending was written
    Blocked,  // the socket is full (EAGAIN); bytes remain
    Failed,   // the peer is gone or another error; see `error`
};

struct WriteResult {
    WriteStatus status = WriteStatus::Drained;
    std::size_t bytes_written = 0;
    int error = 0;  // errno when status == Failed
};

class OutputBuffer {
public:
    OutputBuffer() = default;
    OutputBuffer(const OutputBuffer&) = delete;
    OutputBuffer& operator=(const OutputBuffer&) = delete;
    ~OutputBuffer();

    // Queues a shared chunk (no copy of its bytes).
    void append(const ChunkRef& chunk);
    // Queues bytes that belong to this connection only.
    void append(std::string bytes);

    std::size_t pending_bytes() const { return pending_bytes_; }
    bool empty() const { return count_ == 0; }

    // Writes as much as the socket takes, gathering up to kMaxIovecs pieces
    // per writev(). Retries EINTR; EAGAIN is not an error (Blocked).
    WriteResult write_to(int fd);

    // Drops everything queued (used when the connection is closing).
    void clear();

    // Marks `n` pending bytes as written (exposed for tests of the ring).
    void consume(std::size_t n);

    // Copies up to `max` pending pieces' views, oldest first (for tests).
    std::size_t peek(std::string_view* out, std::size_t max) const;

    // The most pieces one writev() takes; more wait for the next call.
    static constexpr std::size_t kMaxIovecs = 64;

private:
    struct Segment {
        Chunk* chunk = nullptr;     // owns one reference
        std::uint32_t offset = 0;   // bytes of chunk already written
    };
    static constexpr std::uint32_t kInlineSegments = 2;

    void push(Chunk* chunk);
    void grow();
    Segment& at(std::uint32_t i) { return ring_[(head_ + i) & (capacity_ - 1)]; }
    const Segment& at(std::uint32_t i) const { return ring_[(head_ + i) & (capacity_ - 1)]; }

    Segment inline_[kInlineSegments];
    Segment* ring_ = inline_;        // capacity_ is always a power of two
    std::uint32_t capacity_ = kInlineSegments;
    std::uint32_t head_ = 0;
    std::uint32_t count_ = 0;
    std::size_t pending_bytes_ = 0;
};

}  // namespace sse
