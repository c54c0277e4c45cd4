// Fuzzes the stream frame decoder (FrameDecoder) with the input delivered in
// chunks of varying sizes.
//
// Input layout: byte 0 = n (mod 16) chunk-size bytes follow; then the stream.
// Chunk i has size f(sizes[i mod n]) where f(b) = b for b < 128 and
// (b - 127) * 512 otherwise (so both tiny and frame-sized chunks occur); a
// size of 0 feeds an empty chunk, then one byte. With n = 0 the whole stream
// is fed at once.
//
// Invariants (abort() on violation), checked after every Feed:
//   * every body Next() returns has exactly the length its header announced;
//   * Next() returns nullopt only when the buffered bytes do not hold a
//     complete frame;
//   * buffered() equals bytes fed minus bytes returned as frames (header
//     included);
// and at the end: the concatenation of EncodeFrame(body) for all bodies,
// followed by the buffered remainder, equals the stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "perimeter/noise/framing.h"

namespace {

using perimeter::Bytes;
using perimeter::ByteView;

void Check(bool ok) {
  if (!ok) std::abort();
}

std::size_t ChunkSize(std::uint8_t b) {
  return b < 128 ? b : static_cast<std::size_t>(b - 127) * 512;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t n = std::min<std::size_t>(data[0] % 16, size - 1);
  const std::uint8_t* sizes = data + 1;
  const ByteView stream(data + 1 + n, size - 1 - n);

  perimeter::noise::FrameDecoder decoder;
  Bytes reencoded;      // EncodeFrame(body) for every body so far
  std::size_t fed = 0;  // stream bytes fed so far

  auto drain = [&]() {
    while (std::optional<Bytes> body = decoder.Next()) {
      // The header of this frame is at stream[reencoded.size()].
      const std::size_t at = reencoded.size();
      Check(at + perimeter::noise::kFrameHeaderSize <= fed);
      const std::size_t announced = perimeter::LoadBigEndian16(stream.data() + at);
      Check(body->size() == announced);
      perimeter::Result<Bytes> frame = perimeter::noise::EncodeFrame(*body);
      Check(frame.has_value());
      perimeter::Append(reencoded, *frame);
      Check(reencoded.size() <= fed);
    }
    // No complete frame is left behind.
    const std::size_t rest = fed - reencoded.size();
    Check(decoder.buffered() == rest);
    if (rest >= perimeter::noise::kFrameHeaderSize) {
      const std::size_t announced = perimeter::LoadBigEndian16(stream.data() + reencoded.size());
      Check(rest - perimeter::noise::kFrameHeaderSize < announced);
    }
  };
  auto feed = [&](std::size_t len) {
    len = std::min(len, stream.size() - fed);
    decoder.Feed(stream.subspan(fed, len));
    fed += len;
    drain();
  };

  if (n == 0) {
    feed(stream.size());
  } else {
    for (std::size_t i = 0; fed < stream.size(); ++i) {
      const std::size_t len = ChunkSize(sizes[i % n]);
      if (len == 0) {
        feed(0);
        feed(1);
      } else {
        feed(len);
      }
    }
  }

  // Concatenation of the re-encoded frames plus the remainder is the input.
  Check(fed == stream.size());
  Check(reencoded.size() + decoder.buffered() == stream.size());
  Check(reencoded.empty() || std::memcmp(reencoded.data(), stream.data(), reencoded.size()) == 0);
  return 0;
}
