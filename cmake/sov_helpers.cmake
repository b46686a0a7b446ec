# sov_library(NAME SOURCES... DEPS ...): the library of one src/ folder, as target sov_NAME.
function(sov_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(sov_${name} STATIC ${ARG_SOURCES})
  target_include_directories(sov_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(sov_${name} PUBLIC ${ARG_DEPS})
endfunction()

# sov_test(NAME SOURCES... DEPS ... [SLOW] [THREADS]): a GoogleTest binary registered with
# CTest, labelled fast (default) or slow. THREADS marks tests of concurrent code: they also get
# the label `threads` and join the target `threads_tests`, which `make test-tsan` builds and
# runs under ThreadSanitizer. Tests find shared test data through SOV_TESTDATA.
function(sov_test name)
  if(NOT SOV_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "SLOW;THREADS" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} sov_testutil GTest::gtest GTest::gtest_main)
  set(label fast)
  if(ARG_SLOW)
    set(label slow)
  endif()
  if(ARG_THREADS)
    list(APPEND label threads)
    set_property(GLOBAL APPEND PROPERTY SOV_THREADS_TESTS ${name})
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${label}" WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endfunction()
