#include "graph/cross_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "graph/error.h"
#include "graph/quant/quantize.h"

namespace kiln {

Agreement compare_values(std::span<const float> got, std::span<const float> want) {
    Agreement a;
    if (got.size() != want.size()) {
        a.size_mismatch = got.size();
        return a;
    }
    double err = 0, ref = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        const float x = got[i], y = want[i];
        if (!std::isfinite(x) || !std::isfinite(y)) {
            // NaN matches NaN; an infinity matches only the same infinity.
            const bool same = std::isnan(y) ? std::isnan(x) : x == y;
            if (!same && !a.nonfinite_at) {
                a.nonfinite_at = i;
                a.got_at = x;
                a.want_at = y;
            }
            continue;
        }
        const double d = static_cast<double>(x) - y;
        err += d * d;
        ref += static_cast<double>(y) * y;
        a.max_abs = std::max(a.max_abs, std::abs(d));
    }
    a.nmse = ref > 0 ? err / ref : err;
    return a;
}

std::string agreement_text(const Agreement& a, double max_nmse) {
    char buf[160];
    if (a.size_mismatch) {
        std::snprintf(buf, sizeof buf, "%zu values where the reference has a different count", *a.size_mismatch);
    } else if (a.nonfinite_at) {
        std::snprintf(buf, sizeof buf, "NaN/Inf at %zu: %g where the reference has %g", *a.nonfinite_at,
                      static_cast<double>(a.got_at), static_cast<double>(a.want_at));
    } else {
        std::snprintf(buf, sizeof buf, "NMSE %.3g %s %.3g, max |diff| %.3g", a.nmse, a.nmse <= max_nmse ? "<=" : ">",
                      max_nmse, a.max_abs);
    }
    return buf;
}

std::vector<float> tensor_values(const Tensor& t, std::span<const uint8_t> bytes) {
    std::vector<float> out(static_cast<size_t>(t.n_elements()));
    const uint64_t row = row_bytes(t.type, static_cast<uint64_t>(t.ne[0])).value();
    float* o = out.data();
    for (int64_t i3 = 0; i3 < t.ne[3]; ++i3)
        for (int64_t i2 = 0; i2 < t.ne[2]; ++i2)
            for (int64_t i1 = 0; i1 < t.ne[1]; ++i1, o += t.ne[0]) {
                const uint64_t at = static_cast<uint64_t>(i1) * t.nb[1] + static_cast<uint64_t>(i2) * t.nb[2] +
                                    static_cast<uint64_t>(i3) * t.nb[3];
                if (at + row > bytes.size()) throw Error("cross_check: tensor '" + t.name + "' needs more bytes than given");
                const uint8_t* p = bytes.data() + at;
                if (t.type == DType::I32) {
                    for (int64_t i0 = 0; i0 < t.ne[0]; ++i0) {
                        int32_t v;
                        std::memcpy(&v, p + 4 * i0, 4);
                        o[i0] = static_cast<float>(v);
                    }
                } else {
                    dequantize_row(t.type, p, o, t.ne[0]);
                }
            }
    return out;
}

}  // namespace kiln
