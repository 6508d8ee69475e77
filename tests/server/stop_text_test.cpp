// Stop strings over streamed text: nothing of a stop string reaches the client, and text that
// only looked like the start of one is released once it cannot be.
#include <gtest/gtest.h>

#include "apps/server/stop_text.h"

namespace kiln::server {
namespace {

TEST(StopText, CutsBeforeAStopStringSplitOverPieces) {
    StopText s({"END"});
    std::string out = s.push("hello E");
    EXPECT_EQ(out, "hello ");  // "E" could start "END"
    out += s.push("N");
    EXPECT_FALSE(s.stopped());
    out += s.push("D and more");
    EXPECT_TRUE(s.stopped());
    EXPECT_EQ(out, "hello ");
    EXPECT_EQ(s.push("later"), "");
    EXPECT_EQ(s.flush(), "");
}

TEST(StopText, ReleasesAFalseStart) {
    StopText s({"END"});
    EXPECT_EQ(s.push("a EN"), "a ");
    EXPECT_EQ(s.push("X"), "ENX");
    EXPECT_FALSE(s.stopped());
    EXPECT_EQ(s.push("E"), "");
    EXPECT_EQ(s.flush(), "E");
}

TEST(StopText, EarliestOfSeveralWins) {
    StopText s({"world", "lo w", ""});
    EXPECT_EQ(s.push("hello world"), "hel");
    EXPECT_TRUE(s.stopped());
}

TEST(StopText, NoStopsPassesEverything) {
    StopText s({});
    EXPECT_EQ(s.push("abc"), "abc");
    EXPECT_EQ(s.flush(), "");
}

TEST(StopText, HoldsMultiByteCharactersWhole) {
    StopText s({"\xC3\xA9t\xC3\xA9"});  // "été"
    EXPECT_EQ(s.push("caf\xC3\xA9"), "caf");
    EXPECT_EQ(s.push("!"), "\xC3\xA9!");
}

}  // namespace
}  // namespace kiln::server
