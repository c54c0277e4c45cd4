#include "perimeter/noise/framing.h"

namespace perimeter::noise {

Result<Bytes> EncodeFrame(ByteView body) {
  if (body.size() > kMaxFrameBodySize) {
    return InvalidArgumentError("noise.frame_too_large", "noise: frame body over 65535 bytes");
  }
  Bytes out(kFrameHeaderSize + body.size());
  StoreBigEndian16(out.data(), static_cast<std::uint16_t>(body.size()));
  std::copy(body.begin(), body.end(), out.begin() + kFrameHeaderSize);
  return out;
}

void FrameDecoder::Feed(ByteView data) {
  // Compact before growing, so consumed frames do not accumulate.
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > kMaxFrameBodySize) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());
}

std::optional<Bytes> FrameDecoder::Next() {
  std::size_t available = buffer_.size() - start_;
  if (available < kFrameHeaderSize) return std::nullopt;
  std::size_t length = LoadBigEndian16(buffer_.data() + start_);
  if (available - kFrameHeaderSize < length) return std::nullopt;
  auto begin = buffer_.begin() + static_cast<std::ptrdiff_t>(start_ + kFrameHeaderSize);
  Bytes body(begin, begin + static_cast<std::ptrdiff_t>(length));
  start_ += kFrameHeaderSize + length;
  return body;
}

}  // namespace perimeter::noise
