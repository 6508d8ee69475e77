// `kiln chat` as a person uses it (issue 16, item 5): Ctrl-C stops a reply and a second one
// quits; unknown /commands are named; at a terminal, lines are edited and recalled (libedit).
// The real binary, on pipes or on a pseudo-terminal, with a synthetic model whose random
// weights rarely end a reply by themselves.
#include <gtest/gtest.h>

#include "apps/kiln_process.h"
#include "apps/line_reader.h"
#include "support/temp_model.h"

namespace kiln {
namespace {

using testing::KilnProcess;

const std::string& model() {
    static const testing::TempModel file("chat-interactive", "tiny", DType::F32, 11);
    static const std::string path = file.path().string();
    return path;
}

// Replies long enough to be interrupted: a context of 2048 and no token limit.
std::vector<std::string> chat_args() { return {"chat", "-m", model(), "--temp", "0", "-c", "2048", "--backend", "cpu", "-t", "1"}; }

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = 0; (at = text.find(needle, at)) != std::string::npos; at += needle.size()) ++n;
    return n;
}

TEST(ChatInterrupt, CtrlCStopsTheReplyAndCtrlCAtThePromptQuits) {
    KilnProcess chat(chat_args(), KilnProcess::Io::Pipes);
    chat.write("Tell me a long story\n");
    ASSERT_TRUE(chat.wait_for_bytes(8, 60)) << "no reply: " << chat.output() << chat.error_output();
    chat.signal(SIGINT);
    ASSERT_TRUE(chat.wait_for("(reply stopped)\n", 30)) << chat.output() << chat.error_output();

    // Back at the prompt: the next line gets a reply, which Ctrl-C stops in turn.
    const size_t mark = chat.output().size();
    chat.write("Another one\n");
    ASSERT_TRUE(chat.wait_for_bytes(mark + 8, 60)) << chat.output();
    chat.signal(SIGINT);
    ASSERT_TRUE(chat.wait_for("(reply stopped)\n", 30, mark)) << chat.output();

    chat.signal(SIGINT);  // at the prompt: quits
    EXPECT_EQ(chat.wait_exit(30), 0) << chat.output();
    const std::string timings = chat.error_output();
    EXPECT_EQ(count(timings, "stop: cancelled"), 2u) << timings;
}

TEST(ChatInterrupt, EndOfInputAfterAStoppedReplyQuits) {
    KilnProcess chat(chat_args(), KilnProcess::Io::Pipes);
    chat.write("Tell me a long story\n");
    ASSERT_TRUE(chat.wait_for_bytes(8, 60)) << chat.output() << chat.error_output();
    chat.signal(SIGINT);
    ASSERT_TRUE(chat.wait_for("(reply stopped)\n", 30)) << chat.output();
    chat.close_input();
    EXPECT_EQ(chat.wait_exit(30), 0) << chat.output();
}

TEST(ChatCommands, UnknownCommandsAreNamedAndTheChatGoesOn) {
    KilnProcess chat(chat_args(), KilnProcess::Io::Pipes);
    chat.write("/frobnicate now\n/help\n/system\n/quit\n");
    EXPECT_EQ(chat.wait_exit(60), 0) << chat.output() << chat.error_output();
    EXPECT_NE(chat.output().find("unknown command '/frobnicate', /help lists them\n"), std::string::npos)
        << chat.output();
    EXPECT_NE(chat.output().find("commands: /system"), std::string::npos) << chat.output();  // /help still answered
    EXPECT_NE(chat.output().find("(conversation cleared)"), std::string::npos) << chat.output();  // bare /system
    EXPECT_EQ(chat.error_output().find("generation"), std::string::npos) << "a command reached the model";
}

// At a terminal: Ctrl-A goes to the start of the line, the up arrow recalls the last line,
// Ctrl-D on an empty line ends the chat. The lines are unknown commands, so their text comes
// back in the reply that names them.
TEST(ChatLineEditing, EditsAndRecallsLinesAtATerminal) {
    if (!LineReader::has_line_editing()) GTEST_SKIP() << "kiln was built without libedit";
    KilnProcess chat(chat_args(), KilnProcess::Io::Terminal);
    ASSERT_TRUE(chat.wait_for("> ", 60)) << chat.output() << chat.error_output();
    ASSERT_TRUE(chat.wait_for_editor(30));
    const std::string reply = "unknown command '/a/bc'";
    chat.write("/bc\x01/a\r");
    ASSERT_TRUE(chat.wait_for(reply, 30)) << chat.output();
    const size_t first = chat.output().find(reply) + reply.size();
    ASSERT_TRUE(chat.wait_for("> ", 30, first)) << chat.output();
    ASSERT_TRUE(chat.wait_for_editor(30));
    chat.write("\x1b[A\r");  // up arrow: the line before, again
    ASSERT_TRUE(chat.wait_for(reply, 30, first)) << chat.output();
    const size_t second = chat.output().find(reply, first) + reply.size();
    ASSERT_TRUE(chat.wait_for("> ", 30, second)) << chat.output();
    ASSERT_TRUE(chat.wait_for_editor(30));
    chat.write("\x04");  // Ctrl-D
    EXPECT_EQ(chat.wait_exit(30), 0) << chat.output();
}

// Ctrl-C at the terminal's prompt quits and leaves the terminal as it found it (libedit turns
// off canonical mode and echo while it reads a line).
TEST(ChatLineEditing, CtrlCAtTheTerminalPromptQuitsAndRestoresTheTerminal) {
    KilnProcess chat(chat_args(), KilnProcess::Io::Terminal);
    termios before{};
    ASSERT_EQ(tcgetattr(chat.terminal(), &before), 0);
    ASSERT_TRUE(chat.wait_for("> ", 60)) << chat.output() << chat.error_output();
    if (LineReader::has_line_editing()) {
        ASSERT_TRUE(chat.wait_for_editor(30));
    }
    chat.write("half a line\x03");  // Ctrl-C: the terminal sends SIGINT
    EXPECT_EQ(chat.wait_exit(30), 0) << chat.output();
    termios after{};
    ASSERT_EQ(tcgetattr(chat.terminal(), &after), 0);
    EXPECT_EQ(after.c_lflag & (ICANON | ECHO | ISIG), before.c_lflag & (ICANON | ECHO | ISIG));
}

}  // namespace
}  // namespace kiln
