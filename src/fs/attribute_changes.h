// setattr's changes applied to Attributes (ApplyAttributeChanges, the one place they meet),
// and RootAttributes: the mount root's attributes. A bucket has no key for itself, so what
// chmod, chown and utimensat set on the root (cp -a, rsync -a and touch do, into a fresh
// mount) is kept in memory for the mount's lifetime, starting from the mount's directory
// defaults and the mount time.
//
// Thread-safety: RootAttributes is safe to call concurrently; mu_ is a leaf lock.
#pragma once

#include <mutex>

#include "s3mount/common/clock.h"
#include "s3mount/fs/attributes.h"
#include "s3mount/fs/filesystem.h"

namespace s3mount {

// Sets what `changes` sets (permissions, owner, times; `now` for UTIME_NOW) and ctime to `now`.
// The size is the caller's (a truncate).
void ApplyAttributeChanges(const AttributeChanges& changes, WallTime now, Attributes& attributes);

class RootAttributes {
 public:
  explicit RootAttributes(Attributes initial) : attributes_(initial) {}

  Attributes Get() const;
  // A setattr of the root: its new attributes, or kIsDirectory for a size.
  Result<Attributes> Apply(const AttributeChanges& changes, WallTime now);

 private:
  mutable std::mutex mu_;
  Attributes attributes_;  // guarded by mu_
};

}  // namespace s3mount
