// kiln run's prompt sources and stop strings, llama.cpp's flag aliases, and `kiln help CMD`
// (issue 16, item 5), on a synthetic model.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "apps/args.h"
#include "apps/backend_flags.h"
#include "apps/run_kiln_support.h"
#include "support/temp_model.h"

namespace kiln {
namespace {

using testing::run_kiln_capture;

const std::string& model() {
    static const testing::TempModel file("cli-habits", "tiny", DType::F32, 3);
    static const std::string path = file.path().string();
    return path;
}

struct TempDir {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("kiln-cli-" + std::to_string(::getpid()));
    TempDir() { std::filesystem::create_directories(path); }
    ~TempDir() { std::filesystem::remove_all(path); }
};

void expect_one_line_error(const testing::KilnResult& r, const std::string& names) {
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(r.err.rfind("kiln: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
    EXPECT_NE(r.err.find(names), std::string::npos) << "does not name " << names << ": " << r.err;
}

TEST(RunPrompt, PromptAndFileTogetherAreAnError) {
    TempDir dir;
    std::ofstream(dir.path / "p.txt") << "Once";
    auto r = run_kiln_capture({"run", "-m", model(), "-p", "Once", "-f", (dir.path / "p.txt").string(), "-n", "2"});
    expect_one_line_error(r, "-p/--prompt and -f/--file");
    EXPECT_EQ(r.out, "");
}

TEST(RunPrompt, MissingDirectoryAndSpecialFilesAreErrors) {
    TempDir dir;
    const std::string missing = (dir.path / "missing.txt").string();
    const std::string fifo = (dir.path / "fifo").string();
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    for (const std::string& file : {missing, dir.path.string(), fifo}) {
        auto r = run_kiln_capture({"run", "-m", model(), "-f", file, "-n", "2"});
        expect_one_line_error(r, file + " (-f)");
    }
    const std::string locked = (dir.path / "locked.txt").string();
    std::ofstream(locked) << "Once";
    std::filesystem::permissions(locked, std::filesystem::perms::none);
    if (std::ifstream(locked)) return;  // root reads it all the same
    expect_one_line_error(run_kiln_capture({"run", "-m", model(), "-f", locked, "-n", "2"}), locked + " (-f)");
}

TEST(RunPrompt, FileGivesTheSameTextAsPrompt) {
    TempDir dir;
    std::ofstream(dir.path / "p.txt") << "Once upon";
    auto from_file = run_kiln_capture({"run", "-m", model(), "-f", (dir.path / "p.txt").string(), "-n", "8", "--temp", "0"});
    auto from_flag = run_kiln_capture({"run", "-m", model(), "-p", "Once upon", "-n", "8", "--temp", "0"});
    ASSERT_EQ(from_file.status, 0) << from_file.err;
    EXPECT_EQ(from_file.out, from_flag.out);
}

// -r stops at the token that completes the text (printed, as llama.cpp does), and every -r
// given counts, not only the last.
TEST(RunReversePrompt, StopsAtTheFirstStopTextOfAny) {
    const std::vector<std::string> base = {"run", "-m", model(), "-p", "Once", "-n", "64", "--temp", "0"};
    auto full = run_kiln_capture(base);
    ASSERT_EQ(full.status, 0) << full.err;
    ASSERT_GT(full.out.size(), 4u + 1u);
    const std::string generated = full.out.substr(4, full.out.size() - 5);  // less "Once" and "\n"
    // Four printable bytes from the second half that the text has not shown before.
    size_t at = std::string::npos;
    for (size_t p = generated.size() / 2; p + 4 <= generated.size() && at == std::string::npos; ++p) {
        const std::string s = generated.substr(p, 4);
        bool ascii = true;
        for (char c : s) ascii = ascii && c > ' ' && c < 0x7f;
        if (ascii && generated.find(s) == p) at = p;
    }
    if (at == std::string::npos) GTEST_SKIP() << "no stop text to pick from: " << generated;
    const std::string stop = generated.substr(at, 4);
    std::vector<std::string> argv = base;
    for (const char* extra : {"-r", "", "--reverse-prompt", "text that is never generated"}) argv.push_back(extra);
    argv[argv.size() - 3] = stop;
    auto stopped = run_kiln_capture(argv);
    ASSERT_EQ(stopped.status, 0) << stopped.err;
    EXPECT_NE(stopped.err.find("stop: stop text"), std::string::npos) << stopped.err;
    EXPECT_EQ(stopped.out.rfind("Once" + generated.substr(0, at + 4), 0), 0u) << stopped.out;
    EXPECT_LT(stopped.out.size(), full.out.size());
    // It ends within the token that completed the stop text.
    EXPECT_LE(stopped.out.size(), 4 + at + 4 + 16 + 1) << stopped.out;
}

TEST(RunReversePrompt, EmptyTextIsAnError) {
    expect_one_line_error(run_kiln_capture({"run", "-m", model(), "-p", "Once", "-r", ""}), "-r/--reverse-prompt");
}

TEST(FlagAliases, LlamaCppNamesMeanTheSame) {
    for (const char* flag : {"-ngl", "--n-gpu-layers", "--gpu-layers"}) {
        Args a("run", backend_flags(), {flag, "7"});
        EXPECT_EQ(a.get("--gpu-layers").value_or(""), "7") << flag;
    }
    Args eq("run", backend_flags(), {"--n-gpu-layers=9"});
    EXPECT_EQ(eq.get("--gpu-layers").value_or(""), "9");
    // And the commands take them.
    auto r = run_kiln_capture({"run", "-m", model(), "-p", "Once", "--n-predict", "2", "--ctx-size", "64", "-ngl", "0",
                               "--backend", "cpu"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("generation 2 tokens"), std::string::npos) << r.err;
}

TEST(FlagAliases, ListedInHelp) {
    for (const char* command : {"run", "chat", "serve"}) {
        auto r = run_kiln_capture({command, "--help"});
        ASSERT_EQ(r.status, 0) << command;
        EXPECT_NE(r.out.find("-ngl, --n-gpu-layers, --gpu-layers VALUE"), std::string::npos) << command << r.out;
        EXPECT_NE(r.out.find("-c, --ctx-size VALUE"), std::string::npos) << command << r.out;
    }
    auto run = run_kiln_capture({"run", "--help"});
    EXPECT_NE(run.out.find("-n, --n-predict VALUE"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("-r, --reverse-prompt VALUE"), std::string::npos) << run.out;
}

TEST(Args, RepeatedFlagsKeepEveryValue) {
    const std::vector<FlagSpec> specs = {{"--stop", "-r", true, ""}, {"--quiet", "", false, ""}};
    Args a("x", specs, {"-r", "a", "--quiet", "--stop=b", "-r", "c"});
    EXPECT_EQ(a.get("--stop").value_or(""), "c");
    EXPECT_EQ(a.get_all("--stop"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(a.get_all("--quiet").empty());
    EXPECT_TRUE(a.get_all("--other").empty());
}

TEST(HelpCommand, IsTheCommandsHelp) {
    for (const char* command : {"run", "chat", "serve", "tokenize", "info", "bench", "compare", "devices", "synth",
                                "quantize"}) {
        auto help = run_kiln_capture({"help", command});
        auto flag = run_kiln_capture({command, "--help"});
        EXPECT_EQ(help.status, 0) << command << help.err;
        EXPECT_EQ(help.status, flag.status) << command;
        EXPECT_EQ(help.out, flag.out) << command;
        EXPECT_NE(help.out.find("usage: kiln"), std::string::npos) << command;
    }
    auto unknown = run_kiln_capture({"help", "frobnicate"});
    EXPECT_EQ(unknown.status, 1);
    EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"), std::string::npos) << unknown.err;
    auto extra = run_kiln_capture({"help", "run", "chat"});
    EXPECT_EQ(extra.status, 1);
    EXPECT_EQ(extra.err, "kiln: help takes one command, not 'chat'\n");
    EXPECT_EQ(run_kiln_capture({"help"}).status, 0);  // the command list, as before
}

}  // namespace
}  // namespace kiln
