// XmlDocument: a parsed XML reply from S3, owned RAII over libxml2's xmlDoc, and XmlNode, a
// non-owning view of one element with helpers that match children by local name (S3 replies
// carry xmlns="http://s3.amazonaws.com/doc/2006-03-01/", moto's errors carry none; both must
// read the same). Also the escaping and validity checks for building request bodies.
//
// Parsing is hardened for bodies from an untrusted server: no network access (XML_PARSE_NONET),
// no DTD loading or validation, no entity substitution, and any document with a DOCTYPE is
// refused outright, so neither external entities (XXE) nor entity expansion ("billion laughs")
// can happen. Malformed input yields an Error of kind kInvalidResponse, never a crash.
//
// Thread-safety: XmlDocument::Parse may be called from any thread (libxml2 is initialised
// once, thread-safely). A document and its nodes may be read from several threads at once
// but not moved or destroyed meanwhile; an XmlNode must not outlive its document.
#pragma once

#include <libxml/tree.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/common/result.h"

namespace s3mount {

// A view of one element of an XmlDocument, or the null node (which every helper accepts and
// which has no children and empty text).
class XmlNode {
 public:
  XmlNode() = default;
  explicit XmlNode(xmlNode* node) : node_(node) {}

  bool IsNull() const { return node_ == nullptr; }
  explicit operator bool() const { return node_ != nullptr; }

  // The element's name without any namespace prefix.
  std::string_view LocalName() const;

  // The element's own text: its text and CDATA children concatenated, exactly as sent (not
  // trimmed; entities and character references decoded). Child elements are not included.
  std::string Text() const;

  // The first child element named `local_name` in any namespace, or the null node.
  XmlNode Child(std::string_view local_name) const;

  // Every child element named `local_name` in any namespace, in document order.
  std::vector<XmlNode> Children(std::string_view local_name) const;

  // Text() of Child(local_name), or nullopt when there is no such child.
  std::optional<std::string> ChildText(std::string_view local_name) const;

 private:
  xmlNode* node_ = nullptr;
};

class XmlDocument {
 public:
  // Parses a complete document. Empty input, input over 64 MiB, malformed XML, or a document
  // with a DOCTYPE give an Error of kind kInvalidResponse whose message says why.
  static Result<XmlDocument> Parse(std::string_view xml);

  // The root element (never null for a successfully parsed document).
  XmlNode Root() const;

 private:
  struct DocDeleter {
    void operator()(xmlDoc* doc) const;
  };

  explicit XmlDocument(xmlDoc* doc) : doc_(doc) {}

  std::unique_ptr<xmlDoc, DocDeleter> doc_;
};

// Whether `text` is well-formed UTF-8 made only of characters XML 1.0 allows (#x9, #xA, #xD,
// #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF). S3 keys may hold other characters (control
// characters such as \x01 are legal in a key) but no XML 1.0 document can carry them, not
// even as character references, so a request body naming such a key cannot be built: the
// builders check with this and return an Error instead.
bool IsValidXmlText(std::string_view text);

// Escapes `text` for use as XML element content: `&`, `<`, `>` become entities and `\r`
// becomes `&#13;` (a raw CR would be normalised to LF by the receiving parser). It does not
// validate: check IsValidXmlText first. Not meant for attribute values.
std::string XmlEscape(std::string_view text);

}  // namespace s3mount
