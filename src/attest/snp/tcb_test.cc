#include "perimeter/attest/snp/tcb.h"

#include <gtest/gtest.h>

namespace perimeter::attest::snp {
namespace {

TEST(SnpTcb, DecodesMilanGenoaLayout) {
  // Real Genoa reported_tcb (genoa-v3-azure-trustee): BL 10, TEE 0, SNP 23,
  // microcode 84.
  TcbVersion t = DecodeTcb(0x541700000000000aull, Product::kGenoa);
  EXPECT_EQ(t, (TcbVersion{.fmc = 0, .boot_loader = 10, .tee = 0, .snp = 23, .microcode = 84}));
  // Real Milan values (milan-v2-azure-hcl-trustee current/reported).
  EXPECT_EQ(DecodeTcb(0xd208000000000003ull, Product::kMilan),
            (TcbVersion{.fmc = 0, .boot_loader = 3, .tee = 0, .snp = 8, .microcode = 210}));
  EXPECT_EQ(DecodeTcb(0x7308000000000003ull, Product::kMilan),
            (TcbVersion{.fmc = 0, .boot_loader = 3, .tee = 0, .snp = 8, .microcode = 115}));
  // Every byte distinct: bytes 2-5 are reserved and ignored.
  EXPECT_EQ(DecodeTcb(0x0807060504030201ull, Product::kMilan),
            (TcbVersion{.fmc = 0, .boot_loader = 1, .tee = 2, .snp = 7, .microcode = 8}));
  EXPECT_EQ(EncodeTcb({.fmc = 9, .boot_loader = 1, .tee = 2, .snp = 7, .microcode = 8}, Product::kGenoa),
            0x0807000000000201ull);
}

TEST(SnpTcb, DecodesTurinLayout) {
  // Every byte distinct: bytes 4-6 are reserved and ignored.
  EXPECT_EQ(DecodeTcb(0x0807060504030201ull, Product::kTurin),
            (TcbVersion{.fmc = 1, .boot_loader = 2, .tee = 3, .snp = 4, .microcode = 8}));
  // The same raw value means something else on Milan/Genoa.
  EXPECT_NE(DecodeTcb(0x0807060504030201ull, Product::kTurin),
            DecodeTcb(0x0807060504030201ull, Product::kGenoa));
  // The real Turin VCEK in certs-only/turin-vcek-virtee-sev has fmcSPL 0,
  // blSPL 0, teeSPL 0, snpSPL 0, ucodeSPL 9 (index.json): the TCB a report
  // signed by it would carry.
  TcbVersion vcek{.fmc = 0, .boot_loader = 0, .tee = 0, .snp = 0, .microcode = 9};
  EXPECT_EQ(EncodeTcb(vcek, Product::kTurin), 0x0900000000000000ull);
  EXPECT_EQ(DecodeTcb(0x0900000000000000ull, Product::kTurin), vcek);
  TcbVersion t{.fmc = 1, .boot_loader = 2, .tee = 3, .snp = 4, .microcode = 8};
  EXPECT_EQ(EncodeTcb(t, Product::kTurin), 0x0800000004030201ull);
}

TEST(SnpTcb, RoundTripsForEveryComponentValue) {
  for (Product p : {Product::kMilan, Product::kGenoa, Product::kTurin}) {
    for (unsigned v = 0; v < 256; ++v) {
      auto b = static_cast<std::uint8_t>(v);
      TcbVersion t{.fmc = p == Product::kTurin ? b : std::uint8_t{0},
                   .boot_loader = b,
                   .tee = static_cast<std::uint8_t>(255 - v),
                   .snp = b,
                   .microcode = static_cast<std::uint8_t>(v ^ 0x5a)};
      EXPECT_EQ(DecodeTcb(EncodeTcb(t, p), p), t);
    }
  }
}

TEST(SnpTcb, UnknownProductDecodesNothing) {
  EXPECT_EQ(DecodeTcb(0x541700000000000aull, Product::kUnknown), TcbVersion{});
  EXPECT_EQ(EncodeTcb({.fmc = 1, .boot_loader = 2, .tee = 3, .snp = 4, .microcode = 5}, Product::kUnknown), 0u);
}

TEST(SnpTcb, TcbAtLeastIsComponentWise) {
  TcbVersion min{.fmc = 1, .boot_loader = 3, .tee = 0, .snp = 8, .microcode = 115};
  EXPECT_TRUE(TcbAtLeast(min, min));
  EXPECT_TRUE(TcbAtLeast({.fmc = 1, .boot_loader = 3, .tee = 0, .snp = 8, .microcode = 210}, min));
  EXPECT_TRUE(TcbAtLeast({.fmc = 2, .boot_loader = 4, .tee = 1, .snp = 9, .microcode = 116}, min));
  // One component lower is enough to fail, even if others are higher.
  EXPECT_FALSE(TcbAtLeast({.fmc = 0, .boot_loader = 9, .tee = 9, .snp = 99, .microcode = 255}, min));
  EXPECT_FALSE(TcbAtLeast({.fmc = 1, .boot_loader = 2, .tee = 9, .snp = 99, .microcode = 255}, min));
  EXPECT_FALSE(TcbAtLeast({.fmc = 9, .boot_loader = 9, .tee = 9, .snp = 7, .microcode = 255}, min));
  EXPECT_FALSE(TcbAtLeast({.fmc = 9, .boot_loader = 9, .tee = 9, .snp = 99, .microcode = 114}, min));
  // Not a total order: neither of these is at least the other.
  TcbVersion a{.fmc = 0, .boot_loader = 4, .tee = 0, .snp = 8, .microcode = 100};
  TcbVersion b{.fmc = 0, .boot_loader = 3, .tee = 0, .snp = 8, .microcode = 200};
  EXPECT_FALSE(TcbAtLeast(a, b));
  EXPECT_FALSE(TcbAtLeast(b, a));
  // Real pair (milan-v2-azure-hcl-trustee): current_tcb >= reported_tcb.
  EXPECT_TRUE(TcbAtLeast(DecodeTcb(0xd208000000000003ull, Product::kMilan),
                         DecodeTcb(0x7308000000000003ull, Product::kMilan)));
  EXPECT_FALSE(TcbAtLeast(DecodeTcb(0x7308000000000003ull, Product::kMilan),
                          DecodeTcb(0xd208000000000003ull, Product::kMilan)));
}

TEST(SnpTcb, ProductFromCpuidTable) {
  struct Row {
    std::uint8_t family, model;
    Product want;
  };
  const Row rows[] = {
      {0x19, 0x00, Product::kMilan},   {0x19, 0x01, Product::kMilan},  // Milan
      {0x19, 0x0F, Product::kMilan},   {0x19, 0x10, Product::kGenoa},
      {0x19, 0x11, Product::kGenoa},   {0x19, 0x1F, Product::kGenoa},  // Genoa, Bergamo
      {0x19, 0xA0, Product::kGenoa},   {0x19, 0xAF, Product::kGenoa},  // Siena
      {0x19, 0x20, Product::kUnknown}, {0x19, 0x21, Product::kUnknown},  // client Zen 3
      {0x19, 0x9F, Product::kUnknown}, {0x19, 0xB0, Product::kUnknown},
      {0x19, 0xFF, Product::kUnknown}, {0x1A, 0x00, Product::kTurin},
      {0x1A, 0x02, Product::kTurin},   {0x1A, 0x11, Product::kTurin},  // Turin, Turin dense
      {0x1A, 0x12, Product::kUnknown}, {0x1A, 0x20, Product::kUnknown},
      {0x1A, 0x50, Product::kUnknown}, {0x17, 0x01, Product::kUnknown},  // Rome (no SNP)
      {0x18, 0x00, Product::kUnknown}, {0x1B, 0x00, Product::kUnknown},
      {0x00, 0x00, Product::kUnknown},  // version 2 reports: zero CPUID
  };
  for (const Row& r : rows) {
    EXPECT_EQ(ProductFromCpuid(r.family, r.model), r.want)
        << std::hex << "family 0x" << int{r.family} << " model 0x" << int{r.model};
  }
}

TEST(SnpTcb, ProductNames) {
  EXPECT_EQ(ProductName(Product::kMilan), "Milan");
  EXPECT_EQ(ProductName(Product::kGenoa), "Genoa");
  EXPECT_EQ(ProductName(Product::kTurin), "Turin");
  EXPECT_EQ(ProductName(Product::kUnknown), "unknown");
}

}  // namespace
}  // namespace perimeter::attest::snp
