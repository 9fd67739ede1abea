// mime/search_text.h: the decoded UTF-8 text of a message, for IMAP SEARCH and an index.
//
// Contract: pure and total. Header text is each field of the top-level header as
// "Name: decoded value" lines (RFC 2047 words decoded, folds removed). Body text is every
// text/* part at any depth (nested messages' headers included), transfer encoding and
// charset decoded to UTF-8; text/html is reduced to its visible text. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "mime/message.h"

namespace tern::mime {

struct SearchText {
  std::string headers;
  std::string body;
};

SearchText search_text(const Message& msg, std::string_view bytes);

// Visible text of an HTML document: tags, comments, <script> and <style> dropped, common
// entities and numeric character references decoded, block elements become line breaks.
std::string html_to_text(std::string_view html);

// Decoded UTF-8 content of one text part (transfer encoding and charset removed).
std::string part_text(const Part& part, std::string_view bytes);

}  // namespace tern::mime
