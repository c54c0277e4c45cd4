# Declaration helpers, in the style of tink_cc_library / serenity_lib.
#
# perimeter_add_library(NAME n SRCS ... [DEPS ...] [PRIVATE_DEPS ...])
#   A static library `perimeter_n` with alias `perimeter::n`; PUBLIC include/
#   and PRIVATE src/. Layering follows from DEPS: a module may only use what it
#   names.
function(perimeter_add_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target perimeter_${ARG_NAME})
  add_library(${target} STATIC ${ARG_SRCS})
  add_library(perimeter::${ARG_NAME} ALIAS ${target})
  target_include_directories(${target}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  perimeter_add_warnings(${target})
endfunction()

# perimeter_add_test(NAME n SRCS ... [DEPS ...] [LABELS ...] [ARGS ...])
#   A GoogleTest binary registered with ctest (label `unit` unless given).
#   Tests find their data through PERIMETER_TESTDATA_DIR.
function(perimeter_add_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS;ARGS" ${ARGN})
  set(target ${ARG_NAME})
  add_executable(${target} ${ARG_SRCS})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_definitions(${target} PRIVATE
    PERIMETER_TESTDATA_DIR="${PERIMETER_TESTDATA_DIR}")
  perimeter_add_warnings(${target})
  add_test(NAME ${target} COMMAND ${target} ${ARG_ARGS})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  set_tests_properties(${target} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()

# perimeter_add_benchmark(NAME n SRCS ... [DEPS ...]): a Google Benchmark
# program; benchmarks are not tests and are never registered with ctest.
function(perimeter_add_benchmark)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  perimeter_add_warnings(${ARG_NAME})
endfunction()

# perimeter_add_fuzzer(NAME n SRCS ... [DEPS ...]): a libFuzzer target
# (Clang). Registered with ctest under the label `fuzz-smoke`: it runs for a
# bounded time (PERIMETER_FUZZ_SECONDS, default 30) over its seed corpus.
set(PERIMETER_FUZZ_SECONDS 30 CACHE STRING "Seconds each fuzz-smoke test runs")
function(perimeter_add_fuzzer)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  target_compile_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer)
  target_link_options(${ARG_NAME} PRIVATE -fsanitize=fuzzer)
  perimeter_add_warnings(${ARG_NAME})
  set(corpus ${PROJECT_SOURCE_DIR}/fuzz/corpus/${ARG_NAME})
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}_corpus)
  add_test(NAME ${ARG_NAME}
    COMMAND ${CMAKE_COMMAND} -E env
      sh -c "mkdir -p '${work}' && exec \"$0\" -max_total_time=${PERIMETER_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 '${work}' '${corpus}'"
      $<TARGET_FILE:${ARG_NAME}>)
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS fuzz-smoke
    TIMEOUT 600)
endfunction()
