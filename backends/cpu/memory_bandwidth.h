#pragma once
// The machine's memory read bandwidth as the CPU kernels see it: what a decode matmul, which
// streams every weight once per token, can reach at best. `kiln devices` prints it.
#include <cstddef>

namespace kiln {

// GB/s (10^9 bytes per second) for `threads` threads each reading its share of a `bytes`
// buffer (far larger than the caches), prefetching ahead as the matmuls do; the best of
// `passes` passes. Throws kiln::Error when the buffer cannot be allocated.
double measure_read_bandwidth(int threads, size_t bytes = size_t{256} << 20, int passes = 8);

}  // namespace kiln
