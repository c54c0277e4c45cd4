# perimeter_add_warnings(target): the project's warning set; errors when
# PERIMETER_WERROR is ON (the default, and always in CI).
function(perimeter_add_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
    -Wimplicit-fallthrough -Wformat=2)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 at -O3 reports std::vector<uint8_t> comparisons (operator<,
    # operator<=> via lexicographical_compare_three_way) as reading "between
    # 2^63 and 2^64 bytes": a known false positive of -Wstringop-overread.
    target_compile_options(${target} PRIVATE -Wno-stringop-overread)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
  if(PERIMETER_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
# Not used: -Wnull-dereference, which GCC 12 reports falsely inside libstdc++
# at -O2/-O3 (placement new in std::vector construction).
