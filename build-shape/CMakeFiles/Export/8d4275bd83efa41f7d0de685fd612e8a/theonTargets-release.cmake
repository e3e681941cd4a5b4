#----------------------------------------------------------------
# Generated CMake target import file for configuration "Release".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "theon::theon" for configuration "Release"
set_property(TARGET theon::theon APPEND PROPERTY IMPORTED_CONFIGURATIONS RELEASE)
set_target_properties(theon::theon PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_RELEASE "CXX"
  IMPORTED_LOCATION_RELEASE "${_IMPORT_PREFIX}/lib/libtheon.a"
  )

list(APPEND _cmake_import_check_targets theon::theon )
list(APPEND _cmake_import_check_files_for_theon::theon "${_IMPORT_PREFIX}/lib/libtheon.a" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
