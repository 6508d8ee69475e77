#pragma once
// kiln's subcommands. Each takes the arguments after its name and returns the exit status;
// `run_kiln` dispatches and turns a kiln::Error into one line on `err` and status 1.
#include <iosfwd>
#include <string>
#include <vector>

namespace kiln {

int run_kiln(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

int info_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int run_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int chat_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int embed_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int tokenize_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int bench_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int compare_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int devices_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int synth_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int quantize_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int serve_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace kiln
