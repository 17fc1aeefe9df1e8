// OutputBuffer: shared chunks, partial writes, the segment ring, writev.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <string_view>

#include "loop/output_buffer.h"

using sse::ChunkRef;
using sse::OutputBuffer;
using sse::WriteStatus;

namespace {

std::string pending_text(const OutputBuffer& buffer) {
    std::string_view views[256];
    std::size_t n = buffer.peek(views, 256);
    std::string text;
    for (std::size_t i = 0; i < n; ++i) text += views[i];
    return text;
}

struct SocketPair {
    int fds[2] = {-1, -1};
    SocketPair() {
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    }
    ~SocketPair() { ::close(fds[0]); ::close(fds[1]); }
    std::string read_all() {
        std::string out;
        char buf[65536];
        ssize_t n;
        while ((n = ::read(fds[1], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
        return out;
    }
};

}  // namespace

TEST_CASE("one chunk shared by many buffers is not copied") {
    ChunkRef event = ChunkRef::make("data: hello\n\n");
    OutputBuffer a, b;
    a.append(event);
    b.append(event);
    CHECK(pending_text(a) == "data: hello\n\n");
    std::string_view va[1], vb[1];
    a.peek(va, 1);
    b.peek(vb, 1);
    CHECK(va[0].data() == vb[0].data());  // the very same bytes
    CHECK(va[0].data() == event.bytes().data());
}

TEST_CASE("consume walks across segments and keeps partial offsets") {
    OutputBuffer buffer;
    buffer.append(std::string("abc"));
    buffer.append(std::string("defg"));
    buffer.append(std::string("hi"));
    CHECK(buffer.pending_bytes() == 9);
    buffer.consume(2);
    CHECK(pending_text(buffer) == "cdefghi");
    buffer.consume(3);
    CHECK(pending_text(buffer) == "fghi");
    CHECK(buffer.pending_bytes() == 4);
    buffer.consume(4);
    CHECK(buffer.empty());
    CHECK(buffer.pending_bytes() == 0);
    buffer.append(std::string(""));  // empty appends queue nothing
    CHECK(buffer.empty());
}

TEST_CASE("the ring grows past its inline segments and keeps order") {
    OutputBuffer buffer;
    std::string expected;
    for (int i = 0; i < 100; ++i) {
        std::string piece = std::to_string(i) + ",";
        expected += piece;
        buffer.append(piece);
        if (i % 7 == 3) {  // consume a little while growing, so the ring wraps
            buffer.consume(1);
            expected.erase(0, 1);
        }
    }
    CHECK(pending_text(buffer) == expected);
    buffer.clear();
    CHECK(buffer.empty());
}

TEST_CASE("write_to sends everything in order with writev") {
    SocketPair pair;
    OutputBuffer buffer;
    std::string expected;
    for (int i = 0; i < 200; ++i) {  // more pieces than one writev takes
        std::string piece = "data: " + std::to_string(i) + "\n\n";
        expected += piece;
        buffer.append(ChunkRef::make(piece));
    }
    auto result = buffer.write_to(pair.fds[0]);
    CHECK(result.status == WriteStatus::Drained);
    CHECK(result.bytes_written == expected.size());
    CHECK(buffer.empty());
    CHECK(pair.read_all() == expected);
}

TEST_CASE("a full socket leaves the rest pending, then drains") {
    SocketPair pair;
    OutputBuffer buffer;
    std::string big(4 * 1024 * 1024, 'x');
    for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
    buffer.append(big);
    auto first = buffer.write_to(pair.fds[0]);
    CHECK(first.status == WriteStatus::Blocked);
    CHECK(first.bytes_written < big.size());
    CHECK(buffer.pending_bytes() == big.size() - first.bytes_written);

    std::string received;
    while (!buffer.empty()) {
        received += pair.read_all();
        auto next = buffer.write_to(pair.fds[0]);
        REQUIRE(next.status != WriteStatus::Failed);
    }
    received += pair.read_all();
    CHECK(received == big);
}

TEST_CASE("a closed peer makes write_to fail with the errno") {
    SocketPair pair;
    ::close(pair.fds[1]);
    pair.fds[1] = ::open("/dev/null", O_RDONLY);  // keep the destructor's close valid
    OutputBuffer buffer;
    buffer.append(std::string("data: x\n\n"));
    auto result = buffer.write_to(pair.fds[0]);
    CHECK(result.status == WriteStatus::Failed);
    CHECK(result.error == EPIPE);
}
