#pragma once
// --profile, --profile-out FILE.json and --profile-jsonl FILE for the commands that run a model
// (run, bench, compare): a ProfileRun made from the flags profiles the sessions attached to it
// (or the executables whose runs go to its sink) and, at the end, prints the table and writes
// the files.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "apps/args.h"
#include "apps/profile_recorder.h"

namespace kiln {

std::vector<FlagSpec> profile_flags();

// Throws kiln::Error (one line naming the file) when `path` cannot be written, so that a bad
// path fails before the run rather than after it.
void check_profile_path(const std::string& path);

class ProfileRun {
public:
    // Checks the output paths now. Throws kiln::Error for an unwritable one.
    explicit ProfileRun(const Args& args);

    // Whether any profiling flag was given.
    bool enabled() const { return table_ || trace_path_ || jsonl_path_; }
    // Whether --profile asked for the printed report.
    bool wants_table() const { return table_; }
    // Profiles the session's following steps (no-op when disabled); throws when its backend
    // cannot time its work.
    void attach(Session& session);
    // Stops profiling the session.
    void detach(Session& session);
    // While paused, the attached sessions' steps are timed but dropped (bench fills its cache
    // depth outside the measurement).
    void pause(bool paused) { paused_ = paused; }
    // For runs made outside a session: hand each profiled run to this (empty when disabled).
    ProfileSink sink() { return enabled() ? profiler_.sink() : ProfileSink{}; }
    // Call before a session that was attached is destroyed: graphs seen after this are new
    // ones, even at the addresses of the old.
    void session_ended() { profiler_.forget_graphs(); }
    // The table then gives the CPU matmuls' GB/s as a share of this (memory_bandwidth.h).
    void set_read_bandwidth(double gbs, int threads) { profiler_.set_read_bandwidth(gbs, threads); }
    // Prints the table (with --profile) to `report` and writes the files. With `step_titles`,
    // one table per step, under its title (kiln compare: a step per backend).
    void finish(std::ostream& report, const std::vector<std::string>& step_titles = {}) const;

private:
    bool table_ = false;
    bool paused_ = false;
    std::optional<std::string> trace_path_, jsonl_path_;
    Profiler profiler_;
};

}  // namespace kiln
