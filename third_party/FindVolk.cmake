# Finds volk from Debian's libvulkan-volk-dev, which ships volk.h and volk.c as sources
# (no library): the Vulkan backend compiles volk.c itself.
#   Volk_FOUND, Volk_INCLUDE_DIR, Volk_SOURCE
find_path(Volk_INCLUDE_DIR volk.h)
find_file(Volk_SOURCE volk.c HINTS ${Volk_INCLUDE_DIR})
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Volk REQUIRED_VARS Volk_INCLUDE_DIR Volk_SOURCE)
mark_as_advanced(Volk_INCLUDE_DIR Volk_SOURCE)
