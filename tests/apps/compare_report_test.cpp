// `kiln compare`'s report: which nodes the table lists, the count of the rest, and the exit
// status, on a made-up comparison with failures past the first ten nodes.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "apps/backend_compare.h"

namespace kiln {
namespace {

Comparison made_up(size_t n_nodes, std::initializer_list<size_t> failing) {
    Comparison c{"cpu", "vulkan", {}};
    for (size_t i = 0; i < n_nodes; ++i) {
        NodeDiff d;
        d.index = i;
        d.name = "n" + std::to_string(i);
        d.op = "add";
        d.shape = "4";
        d.compared = true;
        d.threshold = 1e-7;
        d.agreement.nmse = 1e-9;
        c.nodes.push_back(d);
    }
    for (size_t i : failing) c.nodes[i].agreement.nmse = 1e-3;
    return c;
}

TEST(CompareReport, CountsTheNodesItDoesNotList) {
    const Comparison c = made_up(40, {15, 22});
    std::ostringstream out;
    EXPECT_EQ(print_comparison(c, {"m.gguf", 3, false, false}, out), 1);
    const std::string text = out.str();
    // Listed: 0..9, the failures 15 and 22, and the last node 39: 13 of 40.
    EXPECT_NE(text.find("(27 more nodes within threshold; --all lists them)"), std::string::npos) << text;
    EXPECT_NE(text.find("2 nodes past their threshold; first: node 15 n15 (add)"), std::string::npos) << text;
    EXPECT_NE(text.find("compare cpu vs vulkan: m.gguf, 3 tokens, 40 nodes"), std::string::npos) << text;
}

TEST(CompareReport, AllListsEveryNodeAndNoCount) {
    const Comparison c = made_up(12, {});
    std::ostringstream out;
    EXPECT_EQ(print_comparison(c, {"m.gguf", 1, false, true}, out), 0);
    EXPECT_EQ(out.str().find("more nodes"), std::string::npos) << out.str();
    EXPECT_NE(out.str().find("\n11    n11"), std::string::npos) << out.str();
}

TEST(CompareReport, NonFiniteMismatchIsNamedAndFails) {
    Comparison c = made_up(3, {});
    c.nodes[1].agreement.nonfinite_at = 7;
    c.nodes[1].agreement.got_at = NAN;
    c.nodes[1].agreement.want_at = 1.5f;
    std::ostringstream out;
    EXPECT_EQ(print_comparison(c, {"m.gguf", 1, false, false}, out), 1);
    EXPECT_NE(out.str().find("NaN/Inf at 7: nan where the reference has 1.5"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace kiln
