// `s3mount journal list|clear`: the kept data of the write journal, listed and cleared.
#include "app/journal_command.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <vector>

#include "s3mount/fs/journal.h"

namespace s3mount {
namespace {

constexpr std::string_view kUsage =
    "usage: s3mount journal list [--cache-dir DIR]\n"
    "       s3mount journal clear [--cache-dir DIR] [ID...]\n";

int List(const std::string& cache_dir, std::ostream& out, std::ostream& err) {
  auto items = ListKeptData(cache_dir);
  if (!items.ok()) {
    err << "s3mount: " << items.error().message << "\n";
    return 1;
  }
  if (items->empty()) {
    out << "nothing kept in " << cache_dir << "\n";
    return 0;
  }
  for (const KeptItem& item : *items) {
    out << item.id << "\n"
        << "  bucket: " << item.target << "\n"
        << "  key:    " << item.key << "\n"
        << "  size:   " << item.size << "\n"
        << "  kind:   " << item.kind << (item.pending ? " (not recovered yet)" : "") << "\n"
        << "  why:    " << item.reason << "\n"
        << "  data:   " << (item.data_file.empty() ? "(none local)" : item.data_file) << "\n";
  }
  return 0;
}

}  // namespace

std::string CacheDirectory(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/s3mount";
  if (home != nullptr && home[0] == '/' && ::access(home, W_OK) == 0) {
    return std::string(home) + "/.cache/s3mount";
  }
  return std::filesystem::temp_directory_path().string() + "/s3mount-" + std::to_string(::getuid());
}

bool IsJournalCommand(int argc, char** argv) {
  if (argc < 3 || std::string_view(argv[1]) != "journal") return false;
  const std::string_view verb = argv[2];
  return verb == "list" || verb == "clear";
}

int RunJournalCommand(int argc, char** argv, std::ostream& out, std::ostream& err) {
  const std::string_view verb = argc >= 2 ? argv[1] : "";
  std::string cache_dir;
  std::vector<std::string> ids;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--cache-dir" && i + 1 < argc) {
      cache_dir = argv[++i];
    } else if (arg.rfind("--cache-dir=", 0) == 0) {
      cache_dir = std::string(arg.substr(12));
    } else if (arg.rfind('-', 0) == 0 || verb == "list") {
      err << "s3mount: unknown argument '" << arg << "'\n" << kUsage;
      return 2;
    } else {
      ids.emplace_back(arg);
    }
  }
  cache_dir = CacheDirectory(cache_dir);
  if (verb == "list") return List(cache_dir, out, err);
  if (verb != "clear") {
    err << kUsage;
    return 2;
  }
  auto cleared = ClearKeptData(cache_dir, ids);
  if (!cleared.ok()) {
    err << "s3mount: " << cleared.error().message << "\n";
    return 1;
  }
  out << "cleared " << *cleared << " kept record(s) and their data from " << cache_dir << "\n";
  return 0;
}

}  // namespace s3mount
