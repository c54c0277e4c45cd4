#include "perimeter/attest/snp/tcb.h"

namespace perimeter::attest::snp {
namespace {

std::uint8_t ByteAt(std::uint64_t raw, unsigned index) {
  return static_cast<std::uint8_t>(raw >> (8 * index));
}

std::uint64_t Place(std::uint8_t value, unsigned index) {
  return static_cast<std::uint64_t>(value) << (8 * index);
}

// Byte positions of each component, per layout (see tcb.h).
struct Layout {
  int fmc;  // -1: not present
  unsigned boot_loader;
  unsigned tee;
  unsigned snp;
  unsigned microcode;
};
constexpr Layout kMilanGenoaLayout = {-1, 0, 1, 6, 7};
constexpr Layout kTurinLayout = {0, 1, 2, 3, 7};

const Layout* LayoutFor(Product product) {
  switch (product) {
    case Product::kMilan:
    case Product::kGenoa:
      return &kMilanGenoaLayout;
    case Product::kTurin:
      return &kTurinLayout;
    case Product::kUnknown:
      break;
  }
  return nullptr;
}

}  // namespace

std::string_view ProductName(Product product) {
  switch (product) {
    case Product::kMilan:
      return "Milan";
    case Product::kGenoa:
      return "Genoa";
    case Product::kTurin:
      return "Turin";
    case Product::kUnknown:
      break;
  }
  return "unknown";
}

Product ProductFromCpuid(std::uint8_t family, std::uint8_t model) {
  if (family == 0x19) {
    if (model <= 0x0F) return Product::kMilan;
    if ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF)) return Product::kGenoa;
    return Product::kUnknown;
  }
  if (family == 0x1A && model <= 0x11) return Product::kTurin;
  return Product::kUnknown;
}

TcbVersion DecodeTcb(std::uint64_t raw, Product product) {
  TcbVersion tcb;
  const Layout* layout = LayoutFor(product);
  if (layout == nullptr) return tcb;
  if (layout->fmc >= 0) tcb.fmc = ByteAt(raw, static_cast<unsigned>(layout->fmc));
  tcb.boot_loader = ByteAt(raw, layout->boot_loader);
  tcb.tee = ByteAt(raw, layout->tee);
  tcb.snp = ByteAt(raw, layout->snp);
  tcb.microcode = ByteAt(raw, layout->microcode);
  return tcb;
}

std::uint64_t EncodeTcb(const TcbVersion& tcb, Product product) {
  const Layout* layout = LayoutFor(product);
  if (layout == nullptr) return 0;
  std::uint64_t raw = 0;
  if (layout->fmc >= 0) raw |= Place(tcb.fmc, static_cast<unsigned>(layout->fmc));
  raw |= Place(tcb.boot_loader, layout->boot_loader);
  raw |= Place(tcb.tee, layout->tee);
  raw |= Place(tcb.snp, layout->snp);
  raw |= Place(tcb.microcode, layout->microcode);
  return raw;
}

bool TcbAtLeast(const TcbVersion& a, const TcbVersion& min) {
  return a.fmc >= min.fmc && a.boot_loader >= min.boot_loader && a.tee >= min.tee &&
         a.snp >= min.snp && a.microcode >= min.microcode;
}

}  // namespace perimeter::attest::snp
