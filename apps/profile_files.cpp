// The profile's files: a Chrome trace (chrome://tracing, Perfetto) and JSON lines for scripts.
// Both are streamed event by event (a long run has millions) into FILE.partial, renamed to FILE
// once complete so that a reader never sees half a file.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "apps/profile_flags.h"
#include "apps/profile_recorder.h"
#include "graph/error.h"

namespace kiln {
namespace {

void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& fill) {
    const std::string partial = path + ".partial";
    {
        std::ofstream out(partial, std::ios::binary | std::ios::trunc);
        if (!out) throw Error(path + ": cannot write the profile (" + std::strerror(errno) + ")");
        fill(out);
        out.flush();
        if (!out) {
            std::remove(partial.c_str());
            throw Error(path + ": writing the profile failed");
        }
    }
    std::error_code ec;
    std::filesystem::rename(partial, path, ec);
    if (ec) {
        std::remove(partial.c_str());
        throw Error(path + ": cannot write the profile (" + ec.message() + ")");
    }
}

double us(double ns) { return ns / 1e3; }

}  // namespace

void check_profile_path(const std::string& path) {
    const std::string partial = path + ".partial";
    std::ofstream probe(partial, std::ios::binary | std::ios::trunc);
    if (!probe) throw Error(path + ": cannot write the profile (" + std::strerror(errno) + ")");
    probe.close();
    std::remove(partial.c_str());
}

void Profiler::write_chrome_trace(const std::string& path) const {
    write_atomically(path, [&](std::ostream& out) {
        // One process; one thread (track) per backend, and one more for the copies between them.
        const auto transfer_tid = static_cast<uint32_t>(backends_.size() + 1);
        bool first = true;
        const auto emit = [&](const nlohmann::json& event) {
            out << (first ? "\n" : ",\n") << event.dump();
            first = false;
        };
        out << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
        emit({{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"tid", 0}, {"args", {{"name", "kiln"}}}});
        for (size_t b = 0; b < backends_.size(); ++b) {
            emit({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", b + 1}, {"args", {{"name", backends_[b]}}}});
        }
        if (!transfer_runs_.empty()) {
            emit({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", transfer_tid}, {"args", {{"name", "transfers"}}}});
        }
        for (const NodeRun& r : node_runs_) {
            const NodeInfo& n = graphs_[r.graph].nodes[r.node];
            emit({{"name", n.name}, {"cat", n.op}, {"ph", "X"}, {"ts", us(r.start_ns)}, {"dur", us(r.end_ns - r.start_ns)},
                  {"pid", 1}, {"tid", r.backend + 1},
                  {"args", {{"op", n.op}, {"shape", n.shape}, {"dtype", n.dtype}, {"bytes", n.bytes}, {"flops", n.flops},
                            {"node", r.node}, {"layer", n.layer}, {"step", r.step},
                            {"graph_tokens", graphs_[r.graph].graph_tokens}}}});
        }
        for (const TransferRun& r : transfer_runs_) {
            const std::string& name = graphs_[r.graph].tensor_names.at(r.tensor);
            emit({{"name", "copy " + name}, {"cat", "transfer"}, {"ph", "X"}, {"ts", us(r.start_ns)},
                  {"dur", us(r.end_ns - r.start_ns)}, {"pid", 1}, {"tid", transfer_tid},
                  {"args", {{"bytes", r.bytes}, {"from", backends_[r.from]}, {"to", backends_[r.to]}, {"step", r.step}}}});
        }
        out << "\n]}\n";
    });
}

void Profiler::write_jsonl(const std::string& path) const {
    write_atomically(path, [&](std::ostream& out) {
        for (const NodeRun& r : node_runs_) {
            const NodeInfo& n = graphs_[r.graph].nodes[r.node];
            const nlohmann::json line = {
                {"step", r.step},   {"graph_tokens", graphs_[r.graph].graph_tokens},
                {"node", r.node},   {"name", n.name},
                {"op", n.op},       {"backend", backends_[r.backend]},
                {"layer", n.layer}, {"shape", n.shape},
                {"dtype", n.dtype}, {"start_us", us(r.start_ns)},
                {"dur_us", us(r.end_ns - r.start_ns)}, {"bytes", n.bytes},
                {"flops", n.flops}};
            out << line.dump() << "\n";
        }
    });
}

}  // namespace kiln
