#include "loop/output_buffer.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <utility>

namespace sse {

ChunkRef ChunkRef::make(std::string bytes) {
    ChunkRef ref;
    ref.chunk_ = new Chunk(std::move(bytes));
    ref.chunk_->refs_ = 1;
    return ref;
}

void ChunkRef::release() {
    if (chunk_ && --chunk_->refs_ == 0) delete chunk_;
    chunk_ = nullptr;
}

OutputBuffer::~OutputBuffer() {
    clear();
}

void OutputBuffer::append(const ChunkRef& chunk) {
    if (chunk.size() == 0) return;
    ChunkRef copy = chunk;  // takes one reference for the ring to own
    push(copy.detach());
}

void OutputBuffer::append(std::string bytes) {
    if (bytes.empty()) return;
    push(ChunkRef::make(std::move(bytes)).detach());
}

void OutputBuffer::push(Chunk* chunk) {
    if (count_ == capacity_) grow();
    at(count_) = Segment{chunk, 0};
    ++count_;
    pending_bytes_ += chunk->bytes().size();
}

void OutputBuffer::grow() {
    std::uint32_t new_capacity = capacity_ * 2;
    Segment* bigger = new Segment[new_capacity];
    for (std::uint32_t i = 0; i < count_; ++i) bigger[i] = at(i);
    if (ring_ != inline_) delete[] ring_;
    ring_ = bigger;
    capacity_ = new_capacity;
    head_ = 0;
}

void OutputBuffer::consume(std::size_t n) {
    pending_bytes_ -= n;
    while (n > 0 && count_ > 0) {
        Segment& front = at(0);
        std::size_t left = front.chunk->bytes().size() - front.offset;
        if (n < left) {
            front.offset += static_cast<std::uint32_t>(n);
            return;
        }
        n -= left;
        ChunkRef::adopt(front.chunk);  // drops the ring's reference
        front = Segment{};
        head_ = (head_ + 1) & (capacity_ - 1);
        --count_;
    }
    if (count_ == 0 && ring_ != inline_) {
        // Give the heap ring back: idle connections hold no allocation.
        delete[] ring_;
        ring_ = inline_;
        capacity_ = kInlineSegments;
    }
    if (count_ == 0) head_ = 0;
}

std::size_t OutputBuffer::peek(std::string_view* out, std::size_t max) const {
    std::size_t n = 0;
    for (; n < count_ && n < max; ++n) {
        const Segment& s = at(static_cast<std::uint32_t>(n));
        out[n] = s.chunk->bytes().substr(s.offset);
    }
    return n;
}

WriteResult OutputBuffer::write_to(int fd) {
    WriteResult result;
    while (count_ > 0) {
        iovec iov[kMaxIovecs];
        std::size_t pieces = 0;
        std::size_t offered = 0;
        for (; pieces < count_ && pieces < kMaxIovecs; ++pieces) {
            const Segment& s = at(static_cast<std::uint32_t>(pieces));
            std::string_view rest = s.chunk->bytes().substr(s.offset);
            iov[pieces].iov_base = const_cast<char*>(rest.data());
            iov[pieces].iov_len = rest.size();
            offered += rest.size();
        }
        // sendmsg() is writev() for sockets, plus MSG_NOSIGNAL: a vanished
        // peer yields EPIPE here instead of a process-killing SIGPIPE.
        msghdr message{};
        message.msg_iov = iov;
        message.msg_iovlen = pieces;
        ssize_t n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                result.status = WriteStatus::Blocked;
                return result;
            }
            result.status = WriteStatus::Failed;
            result.error = errno;
            return result;
        }
        consume(static_cast<std::size_t>(n));
        result.bytes_written += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) < offered) {
            // A short write means the socket buffer is full: asking again
            // now would only earn EAGAIN, so wait for EPOLLOUT instead.
            result.status = WriteStatus::Blocked;
            return result;
        }
    }
    result.status = WriteStatus::Drained;
    return result;
}

void OutputBuffer::clear() {
    if (pending_bytes_ > 0) consume(pending_bytes_);
}

}  // namespace sse
