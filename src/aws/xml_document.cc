// Hardened libxml2 parsing into an RAII document, namespace-blind element walking, and XML
// escaping/validation for request bodies.
#include "aws/xml_document.h"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <climits>
#include <cstdint>

namespace s3mount {
namespace {

// S3's largest replies (a 1,000-key listing of 1,024-byte keys, percent-encoded) are a few
// MiB; anything far bigger is not a reply we understand.
constexpr size_t kMaxDocumentSize = size_t{64} << 20;

// NONET: never fetch anything. NOERROR/NOWARNING: report through the context, not stderr.
// NOCDATA: CDATA sections become plain text nodes. Deliberately absent: NOENT (would
// substitute entities), DTDLOAD/DTDATTR/DTDVALID (would read DTDs), HUGE (lifts the limits
// on depth and text size), RECOVER (would accept malformed documents).
constexpr int kParseOptions =
    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;

struct ParserCtxtDeleter {
  void operator()(xmlParserCtxt* ctxt) const { xmlFreeParserCtxt(ctxt); }
};
using ParserCtxtPtr = std::unique_ptr<xmlParserCtxt, ParserCtxtDeleter>;

// libxml2 wants xmlInitParser() before it is used from several threads; a function-local
// static makes the first call thread-safe and the rest free.
void EnsureLibxmlInitialised() {
  static const bool initialised = [] {
    xmlInitParser();
    return true;
  }();
  (void)initialised;
}

Error ParseError(std::string message) {
  return MakeError(ErrorCode::kInvalidResponse, "malformed XML: " + std::move(message));
}

std::string DescribeLastError(xmlParserCtxt* ctxt) {
  const xmlError* error = xmlCtxtGetLastError(ctxt);
  if (error == nullptr || error->message == nullptr) return "unknown parse error";
  std::string message(error->message);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message + " (line " + std::to_string(error->line) + ")";
}

bool NameIs(const xmlNode* node, std::string_view local_name) {
  return node->type == XML_ELEMENT_NODE && node->name != nullptr &&
         std::string_view(reinterpret_cast<const char*>(node->name)) == local_name;
}

bool IsXmlChar(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Decodes one UTF-8 sequence at text[*pos], advancing *pos. Returns false for malformed,
// overlong, surrogate or out-of-range sequences.
bool DecodeUtf8(std::string_view text, size_t* pos, uint32_t* cp) {
  const auto lead = static_cast<unsigned char>(text[*pos]);
  int extra = 0;
  uint32_t min_cp = 0;
  if (lead < 0x80) {
    *cp = lead;
    ++*pos;
    return true;
  }
  if ((lead & 0xE0) == 0xC0) {
    extra = 1;
    min_cp = 0x80;
    *cp = lead & 0x1Fu;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
    min_cp = 0x800;
    *cp = lead & 0x0Fu;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3;
    min_cp = 0x10000;
    *cp = lead & 0x07u;
  } else {
    return false;
  }
  if (text.size() - *pos <= static_cast<size_t>(extra)) return false;
  for (int i = 1; i <= extra; ++i) {
    const auto next = static_cast<unsigned char>(text[*pos + i]);
    if ((next & 0xC0) != 0x80) return false;
    *cp = (*cp << 6) | (next & 0x3F);
  }
  *pos += extra + 1;
  return *cp >= min_cp && *cp <= 0x10FFFF && !(*cp >= 0xD800 && *cp <= 0xDFFF);
}

}  // namespace

std::string_view XmlNode::LocalName() const {
  if (node_ == nullptr || node_->name == nullptr) return {};
  return reinterpret_cast<const char*>(node_->name);
}

std::string XmlNode::Text() const {
  std::string text;
  if (node_ == nullptr) return text;
  for (const xmlNode* child = node_->children; child != nullptr; child = child->next) {
    if ((child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) &&
        child->content != nullptr) {
      text += reinterpret_cast<const char*>(child->content);
    }
  }
  return text;
}

XmlNode XmlNode::Child(std::string_view local_name) const {
  if (node_ == nullptr) return XmlNode();
  for (xmlNode* child = node_->children; child != nullptr; child = child->next) {
    if (NameIs(child, local_name)) return XmlNode(child);
  }
  return XmlNode();
}

std::vector<XmlNode> XmlNode::Children(std::string_view local_name) const {
  std::vector<XmlNode> children;
  if (node_ == nullptr) return children;
  for (xmlNode* child = node_->children; child != nullptr; child = child->next) {
    if (NameIs(child, local_name)) children.emplace_back(child);
  }
  return children;
}

std::optional<std::string> XmlNode::ChildText(std::string_view local_name) const {
  const XmlNode child = Child(local_name);
  if (child.IsNull()) return std::nullopt;
  return child.Text();
}

void XmlDocument::DocDeleter::operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }

Result<XmlDocument> XmlDocument::Parse(std::string_view xml) {
  if (xml.empty()) return ParseError("empty document");
  if (xml.size() > kMaxDocumentSize || xml.size() > static_cast<size_t>(INT_MAX)) {
    return ParseError("document of " + std::to_string(xml.size()) + " bytes is too large");
  }
  // S3 never sends a DTD; refusing any DOCTYPE up front rules out entity tricks entirely.
  if (xml.find("<!DOCTYPE") != std::string_view::npos) {
    return ParseError("documents with a DOCTYPE are not accepted");
  }
  EnsureLibxmlInitialised();
  const ParserCtxtPtr ctxt(xmlNewParserCtxt());
  if (ctxt == nullptr) return ParseError("out of memory creating a parser");
  std::unique_ptr<xmlDoc, DocDeleter> doc(xmlCtxtReadMemory(
      ctxt.get(), xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, kParseOptions));
  if (doc == nullptr) return ParseError(DescribeLastError(ctxt.get()));
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return ParseError("documents with a DOCTYPE are not accepted");
  }
  if (xmlDocGetRootElement(doc.get()) == nullptr) return ParseError("no root element");
  return XmlDocument(doc.release());
}

XmlNode XmlDocument::Root() const { return XmlNode(xmlDocGetRootElement(doc_.get())); }

bool IsValidXmlText(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    uint32_t cp = 0;
    if (!DecodeUtf8(text, &pos, &cp) || !IsXmlChar(cp)) return false;
  }
  return true;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += c;
        break;
    }
  }
  return out;
}

}  // namespace s3mount
