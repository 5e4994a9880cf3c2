// CheckBucket: the one request made before mounting (a one-key listing of the mount's
// prefix), which proves the bucket exists, the endpoint answers and the credentials work,
// turned into a message a person understands when it fails.
//
// Thread-safety: a pure function over the store.
#pragma once

#include <string>

#include "s3mount/s3/object_store.h"

namespace s3mount {

// `where` names the endpoint in messages ("http://127.0.0.1:9000" or "AWS (us-east-1)").
// `virtual_host` is the host the bucket is addressed as when virtual-hosted
// ("bucket.minio:9000"), "" when path-style: a host that does not resolve is then named and
// the path_style option suggested.
Status CheckBucket(ObjectStore& store, const std::string& bucket, const std::string& prefix,
                   const std::string& where, const std::string& virtual_host = "");

}  // namespace s3mount
