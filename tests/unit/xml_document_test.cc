// Tests for the hardened libxml2 wrapper, namespace-blind walking and XML escaping
// (src/aws/xml_document.h).
#include "aws/xml_document.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace s3mount {
namespace {

XmlDocument MustParse(std::string_view xml) {
  auto doc = XmlDocument::Parse(xml);
  EXPECT_TRUE(doc.ok()) << doc.error().ToString();
  return std::move(doc).value();
}

void ExpectRejected(std::string_view xml, std::string_view why_substring = "") {
  auto doc = XmlDocument::Parse(xml);
  ASSERT_FALSE(doc.ok()) << "accepted: " << xml.substr(0, 200);
  EXPECT_EQ(doc.error().code, ErrorCode::kInvalidResponse);
  EXPECT_NE(doc.error().message.find(why_substring), std::string::npos) << doc.error().message;
}

TEST(XmlDocumentTest, WalksChildrenByLocalNameInAnyNamespace) {
  // The same shape three ways: S3's default namespace, a prefixed namespace, none (moto's
  // <Error> documents).
  for (
      const char* xml :
      {R"(<?xml version="1.0" encoding="UTF-8"?>
<Result xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Item>one</Item><Other/><Item>two</Item></Result>)",
       R"(<s3:Result xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Item>one</s3:Item><s3:Other/><s3:Item>two</s3:Item></s3:Result>)",
       "<Result><Item>one</Item><Other/><Item>two</Item></Result>"}) {
    const XmlDocument doc = MustParse(xml);
    const XmlNode root = doc.Root();
    ASSERT_FALSE(root.IsNull());
    EXPECT_EQ(root.LocalName(), "Result") << xml;
    const std::vector<XmlNode> items = root.Children("Item");
    ASSERT_EQ(items.size(), 2u) << xml;
    EXPECT_EQ(items[0].Text(), "one");
    EXPECT_EQ(items[1].Text(), "two");
    EXPECT_EQ(root.Child("Item").Text(), "one");
    EXPECT_EQ(root.ChildText("Other"), std::optional<std::string>(""));
    EXPECT_EQ(root.ChildText("Missing"), std::nullopt);
  }
}

TEST(XmlDocumentTest, TextDecodesEntitiesAndKeepsWhitespace) {
  const XmlDocument doc = MustParse(
      "<R><K>  a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x263A;&#13;</K>"
      "<C><![CDATA[<raw> & stuff]]></C><M>x<inner>skip</inner>y</M></R>");
  EXPECT_EQ(doc.Root().ChildText("K"), "  a & b <c> \"d\" 'e' \xC3\xA9\xE2\x98\xBA\r");
  EXPECT_EQ(doc.Root().ChildText("C"), "<raw> & stuff");
  EXPECT_EQ(doc.Root().ChildText("M"), "xy");  // own text only
  EXPECT_EQ(doc.Root().Child("M").ChildText("inner"), "skip");
}

TEST(XmlDocumentTest, NullNodeIsSafeEverywhere) {
  const XmlNode null;
  EXPECT_TRUE(null.IsNull());
  EXPECT_FALSE(static_cast<bool>(null));
  EXPECT_EQ(null.LocalName(), "");
  EXPECT_EQ(null.Text(), "");
  EXPECT_TRUE(null.Child("x").IsNull());
  EXPECT_TRUE(null.Children("x").empty());
  EXPECT_EQ(null.ChildText("x"), std::nullopt);
  const XmlDocument doc = MustParse("<a/>");
  EXPECT_TRUE(doc.Root().Child("b").Child("c").IsNull());
}

TEST(XmlDocumentTest, IgnoresCommentsAndProcessingInstructions) {
  const XmlDocument doc =
      MustParse("<?xml version='1.0'?><!-- hi --><R><!-- <K>no</K> --><K>yes</K><?pi x?></R>");
  ASSERT_EQ(doc.Root().Children("K").size(), 1u);
  EXPECT_EQ(doc.Root().ChildText("K"), "yes");
}

TEST(XmlDocumentTest, DocumentIsMovable) {
  XmlDocument a = MustParse("<R><K>v</K></R>");
  XmlDocument b = std::move(a);
  EXPECT_EQ(b.Root().ChildText("K"), "v");
}

TEST(XmlDocumentTest, RejectsMalformedInput) {
  ExpectRejected("", "empty");
  ExpectRejected("   ");
  ExpectRejected("not xml at all");
  ExpectRejected("<R><K>unclosed</R>");
  ExpectRejected("<R>");
  ExpectRejected("<R></R><R2></R2>");
  ExpectRejected("<R>&undefined;</R>");
  ExpectRejected("<R>&#0;</R>");
  ExpectRejected("<R>\x01</R>");
  ExpectRejected("<R>\xff\xfe</R>");
  ExpectRejected("<R a='1' a='2'/>");
  ExpectRejected(std::string_view("<R>\0</R>", 8));
  ExpectRejected("<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>");
  ExpectRejected("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
  // moto's 500 page, verbatim.
  ExpectRejected(
      "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
      "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
      "unable to complete your request. Either the server is overloaded or there is an error "
      "in the application.</p>\n");
}

TEST(XmlDocumentTest, EveryTruncationOfAValidDocumentIsRejected) {
  const std::string full =
      R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Contents><Key>a&amp;b</Key><Size>1</Size></Contents></ListBucketResult>)";
  ASSERT_TRUE(XmlDocument::Parse(full).ok());
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(XmlDocument::Parse(full.substr(0, n)).ok()) << "length " << n;
  }
}

TEST(XmlDocumentTest, RefusesAnyDoctypeSoNoEntityTricks) {
  // Billion laughs: must be refused, not expanded.
  ExpectRejected(R"(<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">)"
                 R"(<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">)"
                 R"(<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">)"
                 R"(<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">)"
                 R"(]><lolz>&lol3;</lolz>)",
                 "DOCTYPE");
  // External entity (XXE) reading a local file, and one fetching over the network.
  ExpectRejected(
      R"(<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>)",
      "DOCTYPE");
  ExpectRejected(R"(<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd"><r/>)",
                 "DOCTYPE");
  // A DOCTYPE without entities is refused too: S3 never sends one.
  ExpectRejected("<!DOCTYPE Error><Error><Code>x</Code></Error>", "DOCTYPE");
}

TEST(XmlDocumentTest, DeepNestingIsRejectedNotOverflowed) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<a>";
  for (int i = 0; i < 100000; ++i) deep += "</a>";
  ExpectRejected(deep);
}

TEST(XmlDocumentTest, ErrorMessageComesFromLibxml) {
  auto doc = XmlDocument::Parse("<R>\n<K>x</J>\n</R>");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().message.find("line 2"), std::string::npos) << doc.error().message;
}

TEST(XmlDocumentTest, ParsesFromManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::vector<int> good(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &good] {
      for (int i = 0; i < 200; ++i) {
        const std::string value = std::to_string(t * 1000 + i);
        auto doc = XmlDocument::Parse("<R xmlns='urn:x'><V>" + value + "</V></R>");
        if (doc.ok() && doc->Root().ChildText("V") == value) ++good[t];
        (void)XmlDocument::Parse("<R><V>broken</R>");
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(good[t], 200) << "thread " << t;
}

TEST(XmlEscapeTest, EscapesMarkupAndCarriageReturn) {
  EXPECT_EQ(XmlEscape("plain/key.txt"), "plain/key.txt");
  EXPECT_EQ(XmlEscape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d\"e'f");
  EXPECT_EQ(XmlEscape("line\r\nnext\ttab"), "line&#13;\nnext\ttab");
  EXPECT_EQ(XmlEscape("&amp;"), "&amp;amp;");
  EXPECT_EQ(XmlEscape("\xC3\xA9t\xC3\xA9"), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(XmlEscape(""), "");
}

TEST(XmlEscapeTest, EscapedTextRoundTripsThroughTheParser) {
  const std::string nasty = " lead & <tag> ]]> \"q\" 'a' \r\n\t tail \xF0\x9F\x98\x80 ";
  ASSERT_TRUE(IsValidXmlText(nasty));
  const XmlDocument doc = MustParse("<K>" + XmlEscape(nasty) + "</K>");
  EXPECT_EQ(doc.Root().Text(), nasty);
}

TEST(IsValidXmlTextTest, AcceptsXmlCharacters) {
  EXPECT_TRUE(IsValidXmlText(""));
  EXPECT_TRUE(IsValidXmlText("photos/2024/IMG 0001.jpg"));
  EXPECT_TRUE(IsValidXmlText("\t\n\r"));
  EXPECT_TRUE(IsValidXmlText("\xC2\x80"));          // U+0080: a C1 control, allowed by XML 1.0
  EXPECT_TRUE(IsValidXmlText("\xED\x9F\xBF"));      // U+D7FF
  EXPECT_TRUE(IsValidXmlText("\xEE\x80\x80"));      // U+E000
  EXPECT_TRUE(IsValidXmlText("\xEF\xBF\xBD"));      // U+FFFD
  EXPECT_TRUE(IsValidXmlText("\xF0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(IsValidXmlText("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(IsValidXmlTextTest, RejectsControlCharactersAndBadUtf8) {
  EXPECT_FALSE(IsValidXmlText(std::string_view("a\0b", 3)));
  EXPECT_FALSE(IsValidXmlText("ctl\x01x"));
  EXPECT_FALSE(IsValidXmlText("\x1f"));
  EXPECT_FALSE(IsValidXmlText("\x0b"));
  EXPECT_FALSE(IsValidXmlText("\xEF\xBF\xBE"));      // U+FFFE
  EXPECT_FALSE(IsValidXmlText("\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_FALSE(IsValidXmlText("\xED\xA0\x80"));      // a surrogate, U+D800
  EXPECT_FALSE(IsValidXmlText("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidXmlText("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidXmlText("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(IsValidXmlText("\xF8\x88\x80\x80\x80"));
  EXPECT_FALSE(IsValidXmlText("\x80"));      // lone continuation byte
  EXPECT_FALSE(IsValidXmlText("abc\xC3"));   // truncated sequence at the end
  EXPECT_FALSE(IsValidXmlText("\xE2\x98"));  // truncated three-byte sequence
  EXPECT_FALSE(IsValidXmlText("\xC3\x28"));  // bad continuation
  EXPECT_FALSE(IsValidXmlText("latin1 \xE9t\xE9"));
}

}  // namespace
}  // namespace s3mount
