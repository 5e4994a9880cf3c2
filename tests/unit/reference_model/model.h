// The reference model of the reference-model test (reference_model_test.cc): a plain map of
// S3 keys to what this mount has written or shown (file bodies, symlink targets, directory
// markers, modes, xattrs), and the POSIX tree those keys mean under docs/SEMANTICS.md's
// rules: a key "a/..." makes directory "a" (implicit without its marker "a/"), and a
// directory wins over a file of the same name (section 9). Local files not uploaded yet (new,
// written, queued for write-back) are keys here too: the mount shows them as if they were,
// so the tree this model gives is what the mount must show after every step.
//
// Nodes are shared: an open handle keeps its node, so a file unlinked or replaced while open
// keeps its bytes in the handle, and a rename moves the node (the handle follows it).
//
// Thread-safety: none; one test thread owns a Model.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "s3mount/common/clock.h"
#include "s3mount/fs/attributes.h"

namespace s3mount::reference_model {

// Every name the test uses, so that operations collide: "a.b" sorts between "a" and "a/" in
// key order, where a file and its directory are not adjacent in a listing.
inline constexpr std::array<const char*, 3> kNames = {"a", "a.b", "b"};

struct ModelNode {
  enum class Kind { kFile, kSymlink, kMarker };
  Kind kind = Kind::kFile;
  std::string content;  // a file's bytes, a symlink's target; a marker's body (not shown)
  std::optional<uint32_t> permissions;  // the 07777 bits; unset: the mount's default
  std::map<std::string, std::string> xattrs;
  std::optional<WallTime> mtime;  // known only when set by utimens and unchanged since
};
using NodePtr = std::shared_ptr<ModelNode>;

enum class ViewKind { kMissing, kFile, kDirectory, kSymlink };

// What one path shows: its kind and the node behind it (the marker of a directory, null for
// an implicit one and for the root).
struct ViewEntry {
  ViewKind kind = ViewKind::kMissing;
  NodePtr node;
};

// "a file", "a directory"... for messages.
const char* KindName(ViewKind kind);
// The kind a mount's file type shows as (FIFOs and sockets as files: the test makes none).
ViewKind KindOfType(FileType type);
// 0644 -> "0644", for messages.
std::string Octal(uint32_t value);

// "a/b" -> "a"; "a" -> "" (the root).
std::string ParentPath(const std::string& path);
// "a/b" -> "b".
std::string BaseName(const std::string& path);
// Whether `path` is strictly below `directory` ("" is above everything).
bool IsBelow(const std::string& path, const std::string& directory);
// "a" + "b" -> "a/b"; "" + "b" -> "b".
std::string JoinPath(const std::string& directory, const std::string& name);

class Model {
 public:
  explicit Model(AttributeDefaults defaults) : defaults_(defaults) {}

  // The kind of `path` ("" is the root directory).
  ViewEntry Resolve(const std::string& path) const;
  // The names a listing of directory `path` shows, sorted.
  std::set<std::string> Children(const std::string& path) const;
  // Whether the directory holds any key other than its own marker.
  bool HasEntriesBelow(const std::string& path) const;
  // The permissions `path` shows (the default of its kind when the node has none).
  uint32_t PermissionsOf(const ViewEntry& entry) const;
  // The size stat shows.
  static uint64_t SizeOf(const ViewEntry& entry);

  // Changes, at key level.
  void Put(const std::string& key, NodePtr node) { keys_[key] = std::move(node); }
  void Erase(const std::string& key) { keys_.erase(key); }
  // The marker of directory `path`, made (as chmod/xattr/utimens of an implicit directory
  // do) when there is none.
  NodePtr MarkerOf(const std::string& path);
  // An entry of `directory` was created, removed or renamed: its mtime is the mount's clock's
  // now (not predicted: a utimens set before no longer holds).
  void EntriesChanged(const std::string& directory);
  // A file or symlink moves with its node; what `to` held is dropped.
  void RenameFile(const std::string& from, const std::string& to);
  // Every key below `from` moves below `to`; the (empty) target's marker is dropped.
  void RenameDirectory(const std::string& from, const std::string& to);

  // The path of the key holding `node`, if any (a file unlinked while open has none).
  std::optional<std::string> PathOf(const ModelNode* node) const;
  const std::map<std::string, NodePtr>& keys() const { return keys_; }
  const AttributeDefaults& defaults() const { return defaults_; }

 private:
  AttributeDefaults defaults_;
  std::map<std::string, NodePtr> keys_;  // S3 keys ("a", "a/" for a marker), in byte order
};

}  // namespace s3mount::reference_model
