// `s3mount journal list|clear`: what the write journal keeps in a cache directory after a
// crash (docs/CONFIGURATION.md, "Write journal"), and the default cache directory, which the
// mount and the command must agree on.
//
// Thread-safety: plain functions.
#pragma once

#include <ostream>
#include <string>

namespace s3mount {

// `configured` (cache_dir=) when set; else $XDG_CACHE_HOME/s3mount, else ~/.cache/s3mount,
// else $TMPDIR/s3mount-UID.
std::string CacheDirectory(const std::string& configured);

// Whether the command line is `s3mount journal list|clear ...` rather than a mount.
bool IsJournalCommand(int argc, char** argv);
// Runs it (argv[0] is "journal"); returns the exit status.
int RunJournalCommand(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace s3mount
