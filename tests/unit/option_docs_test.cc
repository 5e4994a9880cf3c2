// Tests that --help and the man page's OPTIONS section list exactly the `-o` options the
// parser accepts: every accepted option (AcceptedMountOptions, from the table the parser uses)
// must appear in both, and every option either of them lists must be accepted by
// ValidateMountConfig in the form shown (name=VALUE or a bare flag).
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "app/mount_config.h"
#include "app/mount_options.h"

namespace s3mount {
namespace {

// "name=" for an item written "name=VALUE", "x-" for "x-*", "name" for a flag.
std::string OptionOf(std::string item) {
  if (item.rfind("-o ", 0) == 0) item.erase(0, 3);
  const size_t equals = item.find('=');
  if (equals != std::string::npos) return item.substr(0, equals + 1);
  while (!item.empty() && item.back() == '*') item.pop_back();
  return item;
}

std::string Trim(const std::string& text) {
  const size_t first = text.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

// The options --help lists: the synopsis of each "  -o ..." line (up to the two spaces before
// its help), with its continuation lines (five spaces, then text), split at commas.
std::set<std::string> HelpOptions(const std::string& help) {
  std::string synopses;
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  -o ", 0) == 0) {
      synopses += "," + line.substr(2, line.find("  ", 2) - 2);
    } else if (line.rfind("     ", 0) == 0 && line.size() > 5 && line[5] != ' ') {
      synopses += "," + line;
    }
  }
  std::set<std::string> options;
  std::istringstream items(synopses);
  for (std::string item; std::getline(items, item, ',');) {
    item = Trim(item);
    if (!item.empty()) options.insert(OptionOf(item));
  }
  return options;
}

// The bold text of one man(7) macro line (.B, .BI, .IB, .BR, .RB and inline \fB ... \fR).
std::string BoldText(const std::string& line) {
  std::istringstream in(line);
  std::string macro;
  in >> macro;
  std::vector<std::string> args;
  std::string rest;
  std::getline(in, rest);
  for (size_t i = 0; i < rest.size();) {
    if (rest[i] == ' ') {
      ++i;
    } else if (rest[i] == '"') {
      const size_t close = rest.find('"', i + 1);
      args.push_back(rest.substr(i + 1, close - i - 1));
      i = close == std::string::npos ? rest.size() : close + 1;
    } else {
      const size_t space = rest.find(' ', i);
      args.push_back(rest.substr(i, space - i));
      i = space == std::string::npos ? rest.size() : space;
    }
  }
  // Which arguments start bold: all for .B, alternate ones for the two-font macros.
  auto starts_bold = [&](size_t index) {
    if (macro == ".B") return true;
    if (macro == ".BI" || macro == ".BR") return index % 2 == 0;
    if (macro == ".IB" || macro == ".RB") return index % 2 == 1;
    return false;
  };
  std::string bold;
  for (size_t index = 0; index < args.size(); ++index) {
    const std::string& arg = args[index];
    bool in_bold = starts_bold(index);
    for (size_t i = 0; i < arg.size(); ++i) {
      if (arg.compare(i, 2, "\\f") == 0 && i + 2 < arg.size()) {
        const char font = arg[i + 2];
        in_bold = font == 'B' || (font == 'P' && starts_bold(index));
        i += 2;
        bold += ' ';
      } else if (arg.compare(i, 2, "\\-") == 0) {
        if (in_bold) bold += '-';
        ++i;
      } else if (in_bold) {
        bold += arg[i];
      }
    }
    bold += ' ';
  }
  return bold;
}

// The options one tag line names: its bold words, but the command-line flags (-f, --help).
std::vector<std::string> TagOptions(const std::string& tag) {
  std::string bold = BoldText(tag);
  for (char& c : bold) {
    if (c == '[' || c == ']') c = ',';
  }
  std::vector<std::string> options;
  std::istringstream items(bold);
  for (std::string item; std::getline(items, item, ',');) {
    std::istringstream words(item);
    for (std::string word; words >> word;) {
      if (word[0] != '-') options.push_back(OptionOf(word));
    }
  }
  return options;
}

// The options the man page lists: the bold words of the tags (.TP / .TQ lines) of its OPTIONS
// section, without the command-line flags (-f, --help...).
std::set<std::string> ManPageOptions() {
  std::ifstream in(std::string(S3MOUNT_SOURCE_DIR) + "/man/s3mount.1");
  EXPECT_TRUE(in.good()) << "cannot read man/s3mount.1";
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!lines.empty() && !lines.back().empty() && lines.back().back() == '\\') {
      lines.back().pop_back();  // a continued line
      lines.back() += line;
    } else {
      lines.push_back(line);
    }
  }
  std::set<std::string> options;
  bool in_options = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind(".SH ", 0) == 0) in_options = lines[i] == ".SH OPTIONS";
    if (!in_options || (lines[i] != ".TP" && lines[i] != ".TQ") || i + 1 == lines.size()) {
      continue;
    }
    for (const std::string& option : TagOptions(lines[i + 1])) options.insert(option);
  }
  return options;
}

// How ValidateMountConfig answers `option` written as a user would from its listing ("x"
// as the value of a "name=" or the rest of a prefix); "" when it is accepted.
std::string ParserComplaint(const std::string& option) {
  RawMountOptions raw;
  raw.source = "bucket";
  raw.mountpoint = "/mnt";
  const char last = option.back();
  raw.options.push_back(last == '=' || last == '-' ? option + "x" : option);
  auto config = ValidateMountConfig(raw);
  if (config.ok()) return "";
  const std::string& message = config.error().message;
  for (const char* refusal : {"unknown option", "needs a value", "takes no value"}) {
    if (message.find(refusal) != std::string::npos) return message;
  }
  return "";  // accepted as an option; only the value "x" was refused
}

TEST(OptionDocsTest, HelpListsEveryAcceptedOption) {
  const std::set<std::string> listed = HelpOptions(MountHelpText("s3mount"));
  for (const std::string& option : AcceptedMountOptions()) {
    EXPECT_TRUE(listed.contains(option)) << "--help does not list -o " << option;
  }
}

TEST(OptionDocsTest, HelpListsOnlyAcceptedOptions) {
  for (const std::string& option : HelpOptions(MountHelpText("s3mount"))) {
    EXPECT_EQ(ParserComplaint(option), "") << "--help lists -o " << option;
  }
}

TEST(OptionDocsTest, ManPageListsEveryAcceptedOption) {
  const std::set<std::string> listed = ManPageOptions();
  for (const std::string& option : AcceptedMountOptions()) {
    EXPECT_TRUE(listed.contains(option))
        << "man/s3mount.1 does not list " << option << " under OPTIONS";
  }
}

TEST(OptionDocsTest, ManPageListsOnlyAcceptedOptions) {
  const std::set<std::string> listed = ManPageOptions();
  EXPECT_GT(listed.size(), 50u) << "the man page's option tags were not found";
  for (const std::string& option : listed) {
    EXPECT_EQ(ParserComplaint(option), "") << "man/s3mount.1 lists " << option;
  }
}

// The extraction itself, on tag lines shaped as in the man page.
TEST(OptionDocsTest, TagOptionsAreTheBoldWords) {
  using Options = std::vector<std::string>;
  EXPECT_EQ(TagOptions(".BI endpoint= url"), Options{"endpoint="});
  EXPECT_EQ(TagOptions(".BR dev \", \" nodev"), (Options{"dev", "nodev"}));
  EXPECT_EQ(TagOptions(".BI x\\- anything\\fR,\\fP \" comment=\" text"),
            (Options{"x-", "comment="}));
  EXPECT_EQ(TagOptions(".B redis_url=redis://\\fR[[\\fIuser\\fR]"), Options{"redis_url="});
  EXPECT_EQ(TagOptions(".BR \\-h \", \" \\-\\-help"), Options{});
  EXPECT_EQ(TagOptions(".BI access_key_id= id ,secret_access_key= "
                       "secret\\fR[\\fB,session_token=\\fItoken\\fR]"),
            (Options{"access_key_id=", "secret_access_key=", "session_token="}));
}

}  // namespace
}  // namespace s3mount
