// PERIMETER_FUZZ_CHECK(cond): abort() when an invariant breaks, naming the
// file, line and condition on stderr, so that libFuzzer reports it as a
// crash with a readable cause.
//
// Fuzzing only.
#ifndef PERIMETER_FUZZ_FUZZ_CHECK_H_
#define PERIMETER_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define PERIMETER_FUZZ_CHECK(cond)                                                              \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond);        \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)

#endif  // PERIMETER_FUZZ_FUZZ_CHECK_H_
