// LeakSanitizer and Vulkan's own libraries, linked into the kiln binary and every test executable (any may
// reach Vulkan, if only to list devices): the validation layer (with its bundled SPIRV-Tools)
// leaks a few KiB per pipeline it inspects, and lavapipe (libvulkan_lvp, with LLVM) leaves small
// allocations at exit. The loader unloads both at vkDestroyInstance, so at exit those leaks have
// no module to be attributed to. Pinning the libraries (RTLD_NODELETE) keeps their names on the
// stacks, and the suppressions below then drop exactly their leaks; leaks in kiln are still
// reported. Nothing here matters outside sanitizer builds.
#include <dlfcn.h>

#if defined(__SANITIZE_ADDRESS__)
#define KILN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KILN_ASAN 1
#endif
#endif

#ifdef KILN_ASAN
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() {
    return "leak:libVkLayer_khronos_validation.so\nleak:libvulkan_lvp.so\nleak:libLLVM\n";
}

namespace {

// A missing library is fine: dlopen returns null and nothing is pinned.
const void* const pinned_validation_layer =
    dlopen("libVkLayer_khronos_validation.so", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
const void* const pinned_lavapipe = dlopen("libvulkan_lvp.so", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

}  // namespace
#endif
