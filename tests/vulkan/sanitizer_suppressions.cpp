// LeakSanitizer and the Khronos validation layer: the layer (VkLayer_khronos_validation, with its
// bundled SPIRV-Tools) leaks a few KiB per pipeline it inspects, and the loader unloads it at
// vkDestroyInstance, so at exit those leaks have no module to be attributed to. Pinning the
// library (RTLD_NODELETE) keeps its name on the stacks, and the suppression below then drops
// exactly its leaks; leaks in kiln or the driver are still reported. Nothing here matters
// outside sanitizer builds.
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
extern "C" const char* __lsan_default_suppressions() { return "leak:libVkLayer_khronos_validation.so\n"; }

namespace {

// A missing layer is fine: dlopen returns null and the tests run without validation.
const void* const pinned_validation_layer =
    dlopen("libVkLayer_khronos_validation.so", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

}  // namespace
#endif
