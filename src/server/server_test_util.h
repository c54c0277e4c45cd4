// Shared fixtures for the server tests: a record store in a temporary
// directory, a fake evidence provider (no RSA key generation), and a Noise
// client that speaks the session protocol, driven either in-process against
// a Connection or over real sockets.
#ifndef PERIMETER_SERVER_SERVER_TEST_UTIL_H_
#define PERIMETER_SERVER_SERVER_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "perimeter/attest/noise_binding.h"
#include "perimeter/attest/snp/cert_table.h"
#include "perimeter/attest/snp/provider.h"
#include "perimeter/keys/keyring.h"
#include "perimeter/keys/pod_keys.h"
#include "perimeter/noise/pipes.h"
#include "perimeter/server/connection.h"
#include "perimeter/server/evidence_source.h"
#include "perimeter/server/workload_service.h"
#include "perimeter/session/chunker.h"
#include "perimeter/session/codec.h"
#include "perimeter/session/message_reader.h"
#include "perimeter/store/record_store.h"
#include "tests/testing/matchers.h"
#include "tests/testing/temp_dir.h"

namespace perimeter::server::testing {

using ::perimeter::testing::IsOk;
using ::perimeter::testing::StatusIs;

using ::perimeter::testing::TempDir;

// A RecordStore (and its keys) in a temporary directory.
struct TestStore {
  TempDir dir;
  std::unique_ptr<keys::PodKeys> keys;
  std::unique_ptr<store::RecordStore> store;
  TestStore() {
    keys::Keyring ring;
    EXPECT_THAT(ring.Add(keys::MasterSecret::Generate(1).value()), IsOk());
    keys = keys::PodKeys::New("pod-test", ring).value();
    store = store::RecordStore::Open(dir.File("records.sqlite"), keys.get(),
                                     store::StoreOptions{store::SyncMode::kNormalNotPowerSafe, 5000})
                .value();
  }
};

inline std::shared_ptr<const crypto::XdhPrivateKey> NewKey() {
  return std::make_shared<const crypto::XdhPrivateKey>(
      crypto::XdhPrivateKey::Generate(crypto::XdhAlg::kX25519).value());
}

// A provider that returns a zero report carrying the requested REPORT_DATA,
// with a dummy VCEK in the certificate table. For tests of the plumbing
// only: nothing verifies it.
class FakeProvider : public attest::snp::EvidenceProvider {
 public:
  Result<attest::snp::RawEvidence> GetEvidence(ByteView report_data, std::uint32_t) override {
    ++calls;
    attest::snp::RawEvidence raw;
    raw.report.assign(1184, 0);
    raw.report[0] = 3;
    raw.report[1] = static_cast<std::uint8_t>(calls);  // every report differs
    std::copy(report_data.begin(), report_data.end(), raw.report.begin() + 0x50);
    attest::snp::CertTableEntry vek;
    vek.guid = attest::snp::GuidFromString(attest::snp::kGuidVcek).value();
    vek.data = Bytes(300, 0x30);
    raw.certs.push_back(vek);
    raw.provider = "fake";
    return raw;
  }
  std::string name() const override { return "fake"; }
  int calls = 0;
};

inline std::unique_ptr<EvidenceSource> NewFakeEvidenceSource() {
  EvidenceSource::Options o;
  o.setup.provider = std::make_unique<FakeProvider>();
  return EvidenceSource::New(std::move(o)).value();
}

inline noise::PipesClient NewPipesClient(std::shared_ptr<const crypto::XdhPrivateKey> key, Bytes cached = {},
                                         Bytes* seen_evidence = nullptr, Bytes* seen_static = nullptr) {
  noise::PipesClient::Config c;
  c.static_key = std::move(key);
  c.cached_server_static = std::move(cached);
  c.verify_server = [seen_evidence, seen_static](ByteView s, ByteView payload) {
    if (seen_evidence != nullptr) *seen_evidence = ToBytes(payload);
    if (seen_static != nullptr) *seen_static = ToBytes(s);
    return Status::Ok();
  };
  return noise::PipesClient::New(std::move(c)).value();
}

// The client side of an established session: encrypts requests into frame
// bodies, decrypts frame bodies into responses / close.
class ClientSession {
 public:
  explicit ClientSession(noise::PipesSession s) : session_(std::move(s)) {}

  // The frame bodies carrying `request` (chunked when large).
  std::vector<Bytes> Frames(const session::Request& request) {
    std::vector<Bytes> frames;
    const std::vector<Bytes> records = session::SplitIntoRecords(session::EncodeRequest(request).value()).value();
    for (const Bytes& record : records) {
      frames.push_back(session_.transport.Encrypt(record).value());
    }
    return frames;
  }
  // One frame body carrying an arbitrary record.
  Bytes Seal(ByteView record) { return session_.transport.Encrypt(record).value(); }

  // Feeds one frame body from the server; returns a complete message if any.
  Result<std::optional<session::Message>> OnFrame(ByteView body) {
    PERIMETER_ASSIGN_OR_RETURN(Bytes record, session_.transport.Decrypt(body));
    return reader_.OnRecord(record);
  }

  noise::PipesSession& session() { return session_; }

 private:
  noise::PipesSession session_;
  session::MessageReader reader_{session::MessageReader::Sender::kServer};
};

inline session::Request Whoami(std::uint32_t id) { return session::Request{id, session::WhoamiRequest{}}; }
inline session::Request Put(std::uint32_t id, std::string key, Bytes value) {
  return session::Request{id, session::PutRequest{std::move(key), std::move(value)}};
}
inline session::Request Get(std::uint32_t id, std::string key) {
  return session::Request{id, session::GetRequest{std::move(key)}};
}
inline session::Request Delete(std::uint32_t id, std::string key) {
  return session::Request{id, session::DeleteRequest{std::move(key)}};
}
inline session::Request List(std::uint32_t id, std::string prefix, Bytes token = {}, std::uint16_t limit = 100) {
  return session::Request{id, session::ListRequest{std::move(prefix), std::move(token), limit}};
}

}  // namespace perimeter::server::testing

#endif  // PERIMETER_SERVER_SERVER_TEST_UTIL_H_
