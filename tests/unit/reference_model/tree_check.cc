// Runner: compares what the mount shows, and what S3 holds, with the model (see runner.h).
#include <map>
#include <set>

#include "tests/unit/reference_model/runner.h"

namespace s3mount::reference_model {
namespace {

std::string Names(const std::set<std::string>& names) {
  std::string text = "{";
  for (const std::string& name : names) text += (text.size() > 1 ? ", " : "") + name;
  return text + "}";
}

// Where two strings first differ, for messages about contents.
std::string Difference(const std::string& got, const std::string& expected) {
  size_t at = 0;
  while (at < got.size() && at < expected.size() && got[at] == expected[at]) ++at;
  return std::to_string(got.size()) + " bytes, expected " + std::to_string(expected.size()) +
         ", first difference at byte " + std::to_string(at);
}

}  // namespace

std::optional<std::string> Runner::CheckTree() {
  ++checks_;
  auto failure = CheckDirectory(kRootInode, "", checks_ % 2 == 0);
  ForgetWalked();
  return failure;
}

std::optional<std::string> Runner::CheckDirectory(InodeId inode, const std::string& path,
                                                  bool plus) {
  const std::string shown = path.empty() ? "the mount root" : path;
  auto handle = fs_->OpenDir(inode);
  if (!handle.ok()) return "opendir of " + shown + " failed: " + handle.error().ToString();
  std::map<std::string, Entry> listed;
  uint64_t offset = 0;
  std::optional<std::string> failure;
  for (bool more = true; more;) {
    more = false;
    Status read = fs_->ReadDir(*handle, offset, plus, [&](const DirectoryEntry& entry) {
      more = true;
      offset = entry.next_offset;
      if (entry.name == "." || entry.name == "..") return true;  // no reference taken
      if (entry.entry.inode != 0) walked_.push_back(entry.entry.inode);
      listed[entry.name] = entry.entry;
      return true;
    });
    if (!read.ok()) failure = "readdir of " + shown + " failed: " + read.error().ToString();
    if (!read.ok()) break;
  }
  fs_->ReleaseDir(*handle);
  if (failure) return failure;
  const std::set<std::string> expected = model_.Children(path);
  std::set<std::string> names;
  for (const auto& [name, entry] : listed) names.insert(name);
  if (names != expected) {
    return std::string(plus ? "readdirplus" : "readdir") + " of " + shown + " shows " +
           Names(names) + ", expected " + Names(expected);
  }
  for (const auto& [name, entry] : listed) {
    if (!plus) continue;
    if (auto wrong = CheckEntry(JoinPath(path, name), entry, true)) return "readdirplus: " + *wrong;
  }
  for (const char* name : kNames) {
    const std::string child = JoinPath(path, name);
    auto entry = fs_->Lookup(inode, name);
    if (!entry.ok()) return "lookup of " + child + " failed: " + entry.error().ToString();
    if (entry->inode != 0) walked_.push_back(entry->inode);
    if (!expected.contains(name)) {
      if (entry->inode != 0) {
        return "lookup of " + child + ": expected missing, mount shows " +
               KindName(KindOfType(entry->attributes.type));
      }
      continue;
    }
    if (entry->inode == 0) return "lookup of " + child + ": mount shows it missing";
    if (auto wrong = CheckEntry(child, *entry, false)) return "lookup: " + *wrong;
    const ViewEntry view = model_.Resolve(child);
    if (view.kind == ViewKind::kDirectory) {
      if (auto wrong = CheckDirectory(entry->inode, child, plus)) return wrong;
    }
    if (auto wrong = CheckContent(child, entry->inode, view)) return wrong;
  }
  return std::nullopt;
}

std::optional<std::string> Runner::CheckEntry(const std::string& path, const Entry& entry,
                                              bool listed) {
  const ViewEntry view = model_.Resolve(path);
  // A listing gives a directory the defaults: only files are HEADed (SEMANTICS.md sections 1
  // and 11), so its marker's mode and times show at its lookup.
  const bool defaults = listed && view.kind == ViewKind::kDirectory;
  const Attributes& got = entry.attributes;
  if (KindOfType(got.type) != view.kind) {
    return path + " is " + KindName(KindOfType(got.type)) + ", expected " + KindName(view.kind);
  }
  if (got.size != Model::SizeOf(view)) {
    return path + " has size " + std::to_string(got.size) + ", expected " +
           std::to_string(Model::SizeOf(view));
  }
  // Without object metadata, modes are the defaults whatever S3 holds.
  const uint32_t permissions = config_.object_metadata || view.kind == ViewKind::kSymlink
                                   ? model_.PermissionsOf(view)
                                   : model_.PermissionsOf(ViewEntry{view.kind, nullptr});
  if (got.permissions != permissions && view.kind != ViewKind::kSymlink && !defaults) {
    return path + " has mode " + Octal(got.permissions) + ", expected " + Octal(permissions);
  }
  if (view.node && view.node->mtime && config_.object_metadata && !defaults &&
      got.mtime != *view.node->mtime) {
    return path + " has mtime " + std::to_string(got.mtime.time_since_epoch().count()) +
           ", expected " + std::to_string(view.node->mtime->time_since_epoch().count());
  }
  return std::nullopt;
}

std::optional<std::string> Runner::CheckContent(const std::string& path, InodeId inode,
                                                const ViewEntry& view) {
  if (view.kind == ViewKind::kSymlink) {
    auto target = fs_->ReadLink(inode);
    if (!target.ok()) return "readlink of " + path + " failed: " + target.error().ToString();
    if (*target != view.node->content) {
      return "readlink of " + path + " gives '" + *target + "', expected '" + view.node->content +
             "'";
    }
    return std::nullopt;
  }
  if (view.kind == ViewKind::kFile) {
    auto opened = fs_->Open(inode, OpenFlags{});
    if (!opened.ok()) return "open of " + path + " failed: " + opened.error().ToString();
    std::string data;
    std::optional<std::string> failure;
    for (;;) {
      auto slices = fs_->Read(opened->handle, data.size(), size_t{1} << 20);
      if (!slices.ok()) failure = "read of " + path + " failed: " + slices.error().ToString();
      if (!slices.ok() || slices->empty()) break;
      for (const auto& slice : *slices) {
        data.append(slice.block->data() + slice.offset, slice.length);
      }
    }
    (void)fs_->Flush(opened->handle);
    fs_->Release(opened->handle);
    if (failure) return failure;
    if (data != view.node->content) {
      return "read of " + path + " gives " + Difference(data, view.node->content);
    }
  }
  if (!config_.object_metadata) return std::nullopt;  // xattrs need the HEADs
  auto names = fs_->ListXattr(inode);
  if (!names.ok()) return "listxattr of " + path + " failed: " + names.error().ToString();
  std::map<std::string, std::string> xattrs;
  for (const std::string& name : *names) {
    auto value = fs_->GetXattr(inode, name);
    if (!value.ok()) return "getxattr of " + path + " failed: " + value.error().ToString();
    xattrs[name] = *value;
  }
  const std::map<std::string, std::string> none;
  const auto& expected = view.node ? view.node->xattrs : none;
  if (xattrs != expected) {
    std::set<std::string> got_names;
    for (const auto& [name, value] : xattrs) got_names.insert(name + "=" + value);
    std::set<std::string> expected_names;
    for (const auto& [name, value] : expected) expected_names.insert(name + "=" + value);
    return "xattrs of " + path + " are " + Names(got_names) + ", expected " + Names(expected_names);
  }
  return std::nullopt;
}

std::optional<std::string> Runner::CheckStore() {
  const std::vector<std::string> keys = store_.Keys();
  std::set<std::string> got(keys.begin(), keys.end());
  std::set<std::string> expected;
  for (const auto& [key, node] : model_.keys()) expected.insert(key);
  if (got != expected) return "S3 holds keys " + Names(got) + ", expected " + Names(expected);
  for (const auto& [key, node] : model_.keys()) {
    if (node->kind == ModelNode::Kind::kMarker) continue;
    const auto body = store_.BodyOf(key);
    if (body != node->content) {
      return "S3 object " + key + " holds " + Difference(body.value_or(""), node->content);
    }
  }
  return std::nullopt;
}

}  // namespace s3mount::reference_model
