// Fuzzes the session protocol codec (DecodeRecord, DecodeMessage), the chunk
// reassembly (ChunkAssembler through MessageReader) and the Chunker.
//
// Input layout: byte 0 = mode.
//   mode & 0x80: the rest is one whole message for DecodeMessage (it may be
//     larger than a record, as a reassembled message is);
//   otherwise: the rest is a sequence of records, each a 2-byte big-endian
//     length and that many bytes (a short tail is one last record), fed to
//     a MessageReader that reads from the client (mode & 1 == 0) or from
//     the server (mode & 1 == 1).
//
// Invariants (abort() on violation):
//   * a record DecodeRecord accepts re-encodes (EncodeRecord) to exactly the
//     same bytes; a message DecodeMessage accepts re-encodes to the same bytes;
//   * every error reason starts with "session.";
//   * a whole message that decodes, split by Chunker and fed back through a
//     MessageReader, comes out as the same message, in records of at most
//     kMaxRecordSize bytes;
//   * the reader agrees with DecodeRecord on non-chunk records, and a message
//     it reassembles from chunks re-encodes to the concatenated chunk data;
//   * the assembler never holds more than its limits allow, and after an
//     error every further record is refused.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string_view>

#include "perimeter/session/chunker.h"
#include "perimeter/session/codec.h"
#include "perimeter/session/limits.h"
#include "perimeter/session/message_reader.h"

namespace {

using perimeter::Bytes;
using perimeter::ByteView;
using namespace perimeter::session;  // NOLINT

void Check(bool ok) {
  if (!ok) std::abort();
}

bool SameBytes(ByteView a, ByteView b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void CheckReason(const perimeter::Status& s) { Check(s.reason().substr(0, 8) == "session."); }

void WholeMessage(ByteView in) {
  perimeter::Result<Message> m = DecodeMessage(in);
  if (!m.has_value()) {
    CheckReason(m.error());
    return;
  }
  perimeter::Result<Bytes> again = EncodeMessage(*m);
  Check(again.has_value() && SameBytes(*again, in));
  if (std::holds_alternative<Close>(*m)) return;  // a close is never chunked
  perimeter::Result<std::vector<Bytes>> records = SplitIntoRecords(*again);
  Check(records.has_value());
  MessageReader reader(std::holds_alternative<Request>(*m) ? MessageReader::Sender::kClient
                                                           : MessageReader::Sender::kServer);
  std::optional<Message> out;
  for (std::size_t i = 0; i < records->size(); ++i) {
    Check((*records)[i].size() <= kMaxRecordSize);
    perimeter::Result<std::optional<Message>> r = reader.OnRecord((*records)[i]);
    Check(r.has_value());
    Check(r->has_value() == (i + 1 == records->size()));
    if (r->has_value()) out = std::move(**r);
  }
  Check(out.has_value() && *out == *m);
}

void RecordSequence(ByteView in, bool from_server) {
  MessageReader reader(from_server ? MessageReader::Sender::kServer : MessageReader::Sender::kClient);
  std::map<std::uint32_t, Bytes> chunk_data;  // accepted chunk data per message id
  bool failed = false;
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t len = in.size() - pos;
    if (len >= 2) {
      len = std::min<std::size_t>(perimeter::LoadBigEndian16(in.data() + pos), len - 2);
      pos += 2;
    }
    const ByteView rec = in.subspan(pos, len);
    pos += len;

    perimeter::Result<Record> decoded = DecodeRecord(rec);
    if (decoded.has_value()) {
      perimeter::Result<Bytes> again = EncodeRecord(*decoded);
      Check(again.has_value() && SameBytes(*again, rec));
    } else {
      CheckReason(decoded.error());
    }

    perimeter::Result<std::optional<Message>> r = reader.OnRecord(rec);
    if (failed) {
      Check(!r.has_value());
      continue;
    }
    if (!r.has_value()) {
      CheckReason(r.error());
      failed = true;
      Check(reader.failed());
      continue;
    }
    Check(decoded.has_value());  // the reader accepts only decodable records
    Check(reader.assembler().partial_messages() <= kMaxPartialMessages);
    Check(reader.assembler().buffered_bytes() <= kMaxBufferedBytes);
    if (const Chunk* c = std::get_if<Chunk>(&*decoded)) {
      Bytes& acc = chunk_data[c->message_id];
      perimeter::Append(acc, c->data);
      if (r->has_value()) {
        perimeter::Result<Bytes> whole = EncodeMessage(**r);
        Check(whole.has_value() && SameBytes(*whole, acc));
        Check(c->index + 1 == c->count);
        chunk_data.erase(c->message_id);
      } else {
        Check(c->index + 1 < c->count);
      }
    } else {
      Check(r->has_value());
      perimeter::Result<Bytes> whole = EncodeMessage(**r);
      Check(whole.has_value() && SameBytes(*whole, rec));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  const ByteView rest(data + 1, size - 1);
  if (mode & 0x80) {
    WholeMessage(rest);
  } else {
    RecordSequence(rest, (mode & 1) != 0);
  }
  return 0;
}
