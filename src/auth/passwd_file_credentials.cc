// PasswdFileCredentialsProvider: s3fs passwd files.
#include "s3mount/auth/passwd_file_credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "s3mount/common/strings.h"
#include "s3mount/common/unique_fd.h"

namespace s3mount {
namespace {

constexpr size_t kMaxFileBytes = size_t{1} << 20;

Error CredentialsError(std::string message) {
  return MakeError(ErrorCode::kCredentials, std::move(message));
}

struct KeyLine {
  std::string access_key_id;
  std::string secret_access_key;
  int line = 0;
};

// What the lines of the file say, before choosing.
struct PasswdEntries {
  std::optional<KeyLine> any_bucket;
  std::optional<KeyLine> this_bucket;
  Credentials aws_format;  // AWSAccessKeyId= / AWSSecretKey= / AWSSessionToken= lines
};

std::vector<std::string_view> SplitColons(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const size_t colon = line.find(':');
    fields.push_back(line.substr(0, colon));
    if (colon == std::string_view::npos) return fields;
    line.remove_prefix(colon + 1);
  }
}

std::string AtLine(std::string_view path, int line) {
  return std::string(path) + ": line " + std::to_string(line) + ": ";
}

// Handles an `AWSAccessKeyId=...` style line; false when the line is not one.
bool TakeAwsFormatLine(std::string_view line, Credentials& out) {
  struct Field {
    std::string_view prefix;
    std::string Credentials::*member;
  };
  const Field fields[] = {{"AWSAccessKeyId=", &Credentials::access_key_id},
                          {"AWSSecretKey=", &Credentials::secret_access_key},
                          {"AWSSessionToken=", &Credentials::session_token}};
  for (const Field& field : fields) {
    if (line.substr(0, field.prefix.size()) == field.prefix) {
      out.*field.member = std::string(line.substr(field.prefix.size()));
      return true;
    }
  }
  return false;
}

Status TakeKeyLine(std::string_view line, int number, std::string_view bucket,
                   std::string_view path, PasswdEntries& entries) {
  const std::vector<std::string_view> fields = SplitColons(line);
  if (fields.size() != 2 && fields.size() != 3) {
    return CredentialsError(AtLine(path, number) +
                            "expected ACCESS_KEY:SECRET or BUCKET:ACCESS_KEY:SECRET");
  }
  for (std::string_view field : fields) {
    if (field.empty()) return CredentialsError(AtLine(path, number) + "empty field");
  }
  std::optional<KeyLine>* slot = &entries.any_bucket;
  if (fields.size() == 3) {
    if (fields[0] != bucket) return OkStatus();  // another bucket's line
    slot = &entries.this_bucket;
  }
  if (slot->has_value()) {
    return CredentialsError(AtLine(path, number) + "repeats the " +
                            (fields.size() == 3 ? "line for this bucket" : "any-bucket line") +
                            " of line " + std::to_string((*slot)->line));
  }
  const size_t first = fields.size() - 2;
  *slot = KeyLine{std::string(fields[first]), std::string(fields[first + 1]), number};
  return OkStatus();
}

Result<PasswdEntries> ReadEntries(std::string_view contents, std::string_view bucket,
                                  std::string_view path) {
  PasswdEntries entries;
  int number = 0;
  while (!contents.empty()) {
    const size_t newline = contents.find('\n');
    const std::string_view line = TrimAsciiSpace(contents.substr(0, newline));
    contents.remove_prefix(newline == std::string_view::npos ? contents.size() : newline + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    for (char c : line) {
      if (IsAsciiSpace(c)) return CredentialsError(AtLine(path, number) + "holds whitespace");
    }
    if (line.front() == '[') {
      return CredentialsError(AtLine(path, number) +
                              "holds a [section]: this is not an AWS credentials file");
    }
    if (TakeAwsFormatLine(line, entries.aws_format)) continue;
    S3M_RETURN_IF_ERROR(TakeKeyLine(line, number, bucket, path, entries));
  }
  return entries;
}

}  // namespace

Result<Credentials> ParsePasswdFile(std::string_view contents, std::string_view bucket,
                                    std::string_view path) {
  auto entries = ReadEntries(contents, bucket, path);
  if (!entries.ok()) return std::move(entries).error();
  const std::optional<KeyLine>& chosen =
      entries->this_bucket.has_value() ? entries->this_bucket : entries->any_bucket;
  if (chosen.has_value()) {
    Credentials credentials;
    credentials.access_key_id = chosen->access_key_id;
    credentials.secret_access_key = chosen->secret_access_key;
    return credentials;
  }
  const Credentials& aws = entries->aws_format;
  if (!aws.access_key_id.empty() && !aws.secret_access_key.empty()) return aws;
  if (!aws.access_key_id.empty() || !aws.secret_access_key.empty()) {
    return CredentialsError(std::string(path) + " has " +
                            (aws.access_key_id.empty() ? "AWSSecretKey but no AWSAccessKeyId"
                                                       : "AWSAccessKeyId but no AWSSecretKey"));
  }
  return CredentialsError(std::string(path) + " has no line for bucket '" + std::string(bucket) +
                          "' and no ACCESS_KEY:SECRET line for any bucket");
}

Result<Credentials> LoadPasswdFile(const std::string& path, std::string_view bucket) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    return CredentialsError("cannot open passwd file " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    return CredentialsError("cannot stat passwd file " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return CredentialsError("passwd file " + path + " is not a file");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return CredentialsError("passwd file " + path +
                            " may be accessed by its group or others (mode " + mode +
                            "); run: chmod 600 " + path);
  }
  std::string contents;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return CredentialsError("cannot read passwd file " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > kMaxFileBytes) {
      return CredentialsError("passwd file " + path + " is larger than 1 MiB");
    }
  }
  return ParsePasswdFile(contents, bucket, path);
}

Result<Credentials> PasswdFileCredentialsProvider::GetCredentials() {
  std::lock_guard<std::mutex> lock(mu_);
  if (loaded_.has_value()) return *loaded_;
  auto credentials = LoadPasswdFile(path_, bucket_);
  if (credentials.ok()) loaded_ = *credentials;
  return credentials;
}

}  // namespace s3mount
