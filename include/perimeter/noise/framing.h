// Frame codec for Noise over a byte stream (DESIGN.md section 4): every
// handshake and transport message is one frame, a 2-byte big-endian length
// followed by exactly that many bytes (so a frame body is at most 65535
// bytes). Over WebSocket one binary message is one frame body, without the
// length prefix, so only the stream transport uses this codec.
#ifndef PERIMETER_NOISE_FRAMING_H_
#define PERIMETER_NOISE_FRAMING_H_

#include <cstddef>
#include <optional>

#include "perimeter/base/bytes.h"
#include "perimeter/base/result.h"

namespace perimeter::noise {

inline constexpr std::size_t kFrameHeaderSize = 2;
inline constexpr std::size_t kMaxFrameBodySize = 65535;

// Returns length || body. Errors: kInvalidArgument "noise.frame_too_large"
// for a body over 65535 bytes.
Result<Bytes> EncodeFrame(ByteView body);

// Incremental decoder: feed bytes as they arrive, take complete frame bodies.
// Never buffers more than one header plus one maximal body beyond what the
// caller has not taken. Thread-compatible.
class FrameDecoder {
 public:
  // Appends received bytes.
  void Feed(ByteView data);
  // The next complete frame body, or nullopt if more bytes are needed.
  std::optional<Bytes> Next();
  // Bytes received but not yet returned as frames.
  std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  Bytes buffer_;
  std::size_t start_ = 0;
};

}  // namespace perimeter::noise

#endif  // PERIMETER_NOISE_FRAMING_H_
