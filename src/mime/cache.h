// mime/cache.h: compact serialization of a parsed Message, stored with the message at
// delivery so FETCH ENVELOPE/BODYSTRUCTURE and section offsets need no re-parse.
//
// Contract: deserialize(serialize(m)) == m. deserialize never trusts its input: anything
// that is not a well-formed cache (truncated, wrong version, offsets out of order, child
// indices that would form a cycle) is kCorruption. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "mime/message.h"

namespace tern::mime {

std::string serialize(const Message& msg);
Result<Message> deserialize(std::string_view data);

bool operator==(const Param& a, const Param& b);
bool operator==(const Part& a, const Part& b);
bool operator==(const Message& a, const Message& b);

}  // namespace tern::mime
