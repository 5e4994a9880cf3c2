// The mount root's attributes, and setattr's changes applied to Attributes (attribute_changes.h).
#include "fs/attribute_changes.h"

namespace s3mount {

void ApplyAttributeChanges(const AttributeChanges& changes, WallTime now, Attributes& attributes) {
  if (changes.permissions) attributes.permissions = *changes.permissions & 07777;
  if (changes.uid) attributes.uid = *changes.uid;
  if (changes.gid) attributes.gid = *changes.gid;
  if (changes.mtime_now) {
    attributes.mtime = now;
  } else if (changes.mtime) {
    attributes.mtime = *changes.mtime;
  }
  if (changes.atime_now) {
    attributes.atime = now;
  } else if (changes.atime) {
    attributes.atime = *changes.atime;
  }
  attributes.ctime = now;
}

Attributes RootAttributes::Get() const {
  std::lock_guard lock(mu_);
  return attributes_;
}

Result<Attributes> RootAttributes::Apply(const AttributeChanges& changes, WallTime now) {
  if (changes.size) return MakeError(ErrorCode::kIsDirectory, "the mount root is a directory");
  std::lock_guard lock(mu_);
  ApplyAttributeChanges(changes, now, attributes_);
  return attributes_;
}

}  // namespace s3mount
