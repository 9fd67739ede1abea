#include "dns/mx.h"

#include <algorithm>
#include <set>

namespace tern::dns {

const char* to_string(Answer answer) {
  switch (answer) {
    case Answer::kOk: return "ok";
    case Answer::kNoRecords: return "no records";
    case Answer::kNoDomain: return "no such domain";
    case Answer::kTemporary: return "temporary failure";
  }
  return "?";
}

MxPlan plan_mx(const std::string& domain, Answer answer, std::vector<MxRecord> records,
               std::mt19937_64& rng) {
  MxPlan plan;
  switch (answer) {
    case Answer::kTemporary:
      plan.kind = MxPlan::Kind::kTemporary;
      return plan;
    case Answer::kNoDomain:
      plan.kind = MxPlan::Kind::kNoDomain;
      return plan;
    case Answer::kNoRecords:
      plan.kind = MxPlan::Kind::kHosts;
      plan.hosts.push_back(domain);
      plan.implicit = true;
      return plan;
    case Answer::kOk:
      break;
  }
  for (MxRecord& r : records) {
    while (!r.host.empty() && r.host.back() == '.') r.host.pop_back();
    std::transform(r.host.begin(), r.host.end(), r.host.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  // RFC 7505 3: a null MX is one record with an empty (root) exchange. A root exchange among
  // other records is a misconfiguration; those records are used and the root skipped.
  if (records.size() == 1 && records[0].host.empty()) {
    plan.kind = MxPlan::Kind::kNullMx;
    return plan;
  }
  std::erase_if(records, [](const MxRecord& r) { return r.host.empty(); });
  if (records.empty()) {  // an answer without usable records reads as none at all
    plan.kind = MxPlan::Kind::kHosts;
    plan.hosts.push_back(domain);
    plan.implicit = true;
    return plan;
  }
  std::shuffle(records.begin(), records.end(), rng);
  std::stable_sort(records.begin(), records.end(),
                   [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
  plan.kind = MxPlan::Kind::kHosts;
  std::set<std::string> seen;
  for (MxRecord& r : records) {
    if (seen.insert(r.host).second) plan.hosts.push_back(std::move(r.host));
  }
  return plan;
}

}  // namespace tern::dns
