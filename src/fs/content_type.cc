// ContentTypes: extension -> Content-Type from a mime.types file.
#include "s3mount/fs/content_type.h"

#include <fstream>
#include <sstream>

#include "s3mount/common/strings.h"

namespace s3mount {

ContentTypes ContentTypes::Parse(std::string_view text) {
  ContentTypes types;
  std::istringstream lines{std::string(text)};
  for (std::string line; std::getline(lines, line);) {
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string type;
    if (!(words >> type)) continue;
    for (std::string extension; words >> extension;) {
      types.by_extension_.emplace(AsciiLower(extension), type);  // the first mention wins
    }
  }
  return types;
}

ContentTypes ContentTypes::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ContentTypes();
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str());
}

std::string ContentTypes::For(std::string_view name) const {
  const size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) {
    return std::string(kDefaultContentType);
  }
  auto it = by_extension_.find(AsciiLower(name.substr(dot + 1)));
  return it == by_extension_.end() ? std::string(kDefaultContentType) : it->second;
}

}  // namespace s3mount
