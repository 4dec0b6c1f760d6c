// sanitizers.hpp — which sanitizer this translation unit is built with,
// the same way under GCC (__SANITIZE_*__) and clang (__has_feature):
// TANDEM_ASAN for AddressSanitizer, TANDEM_TSAN for ThreadSanitizer.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define TANDEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TANDEM_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define TANDEM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TANDEM_TSAN 1
#endif
#endif
