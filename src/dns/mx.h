// dns/mx.h: the pure part of finding where a domain's mail goes (RFC 5321 5.1, RFC 7505):
// from the answer to an MX query to the ordered list of hosts to try.
//
// Pure; the shuffle takes its random engine from the caller so tests are repeatable.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace tern::dns {

// How a lookup ended, in the terms a mail server acts on.
enum class Answer {
  kOk,         // records found
  kNoRecords,  // the name exists but has no records of the type (NODATA)
  kNoDomain,   // the name does not exist (NXDOMAIN): permanent
  kTemporary,  // timeout, SERVFAIL, refused, unreachable resolver: try again later
};

struct MxRecord {
  uint16_t preference = 0;
  std::string host;  // without the trailing dot; "" or "." is the root (null MX)
};

// Where to send: the hosts in the order to try them, or why there is nowhere.
struct MxPlan {
  enum class Kind {
    kHosts,      // try `hosts` in order
    kNullMx,     // RFC 7505: the domain accepts no mail; fail at once (556 5.1.10)
    kNoDomain,   // NXDOMAIN: fail at once
    kTemporary,  // defer
  };
  Kind kind = Kind::kTemporary;
  std::vector<std::string> hosts;
  bool implicit = false;  // no MX records: the domain itself is the only host (RFC 5321 5.1)
};

// `domain` is the mail domain (lower case); `records` the MX answer when `answer` is kOk.
// Hosts go by ascending preference; hosts of equal preference are shuffled with `rng`
// (RFC 5321 5.1 asks to spread load across them). A duplicate host is tried once.
MxPlan plan_mx(const std::string& domain, Answer answer, std::vector<MxRecord> records,
               std::mt19937_64& rng);

const char* to_string(Answer answer);

}  // namespace tern::dns
