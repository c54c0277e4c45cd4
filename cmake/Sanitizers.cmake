# PERIMETER_SANITIZE=address,undefined applies the sanitizers to every target
# of the project (and its tests), with UBSan made fatal.
if(PERIMETER_SANITIZE)
  string(REPLACE "," ";" _perimeter_sans "${PERIMETER_SANITIZE}")
  foreach(_san IN LISTS _perimeter_sans)
    if(NOT _san MATCHES "^(address|undefined|leak)$")
      message(FATAL_ERROR "PERIMETER_SANITIZE: unsupported sanitizer '${_san}'")
    endif()
  endforeach()
  add_compile_options(-fsanitize=${PERIMETER_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${PERIMETER_SANITIZE})
endif()
