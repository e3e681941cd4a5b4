# CMake generated Testfile for 
# Source directory: /work/main/examples
# Build directory: /work/main/build-shape/examples
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[example.expression]=] "/work/main/build-shape/examples/expression")
set_tests_properties([=[example.expression]=] PROPERTIES  PASS_REGULAR_EXPRESSION "max abs error vs reference: 0" _BACKTRACE_TRIPLES "/work/main/examples/CMakeLists.txt;4;add_test;/work/main/examples/CMakeLists.txt;0;")
