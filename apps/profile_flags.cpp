#include "apps/profile_flags.h"

namespace kiln {

std::vector<FlagSpec> profile_flags() {
    return {
        {"--profile", "", false, "time every node; print the slowest nodes and time per op and per layer at the end"},
        {"--profile-out", "", true, "write the node times as a Chrome trace (chrome://tracing, Perfetto)"},
        {"--profile-jsonl", "", true, "write one JSON line per node per step"},
    };
}

ProfileRun::ProfileRun(const Args& args)
    : table_(args.has("--profile")), trace_path_(args.get("--profile-out")), jsonl_path_(args.get("--profile-jsonl")) {
    if (trace_path_) check_profile_path(*trace_path_);
    if (jsonl_path_) check_profile_path(*jsonl_path_);
}

void ProfileRun::attach(Session& session) {
    if (!enabled()) return;
    session.set_profile_sink([this, sink = profiler_.sink()](const StepProfile& step) {
        if (!paused_) sink(step);
    });
}

void ProfileRun::detach(Session& session) {
    if (!enabled()) return;
    session.set_profile_sink({});
}

void ProfileRun::finish(std::ostream& report, const std::vector<std::string>& step_titles) const {
    if (table_ && step_titles.empty()) profiler_.print_table(report);
    for (size_t i = 0; table_ && i < step_titles.size(); ++i) {
        report << (i ? "\n" : "") << step_titles[i] << "\n";
        profiler_.print_table(report, 25, static_cast<uint32_t>(i));
    }
    if (trace_path_) profiler_.write_chrome_trace(*trace_path_);
    if (jsonl_path_) profiler_.write_jsonl(*jsonl_path_);
}

}  // namespace kiln
