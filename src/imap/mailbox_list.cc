#include "imap/mailbox_list.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "base/strings.h"
#include "imap/proto/mutf7.h"
#include "imap/proto/writer.h"

namespace tern::imap {
namespace {

// "INBOX" itself or a name below it (names are canonical: INBOX in upper case).
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool in_inbox_tree(std::string_view name) {
  return name.starts_with("INBOX") && (name.size() == 5 || name[5] == kHierarchyDelimiter);
}

// Hierarchy order: the INBOX tree first, then byte order with the delimiter below every
// other byte, so that a name's descendants follow it without a gap.
bool hierarchy_less(std::string_view a, std::string_view b) {
  bool ia = in_inbox_tree(a), ib = in_inbox_tree(b);
  if (ia != ib) return ia;
  std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    unsigned ca = a[i] == kHierarchyDelimiter ? 0u : static_cast<unsigned char>(a[i]) + 1u;
    unsigned cb = b[i] == kHierarchyDelimiter ? 0u : static_cast<unsigned char>(b[i]) + 1u;
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

std::string_view special_use_attribute(store::SpecialUse use) {
  switch (use) {
    case store::SpecialUse::kNone: return {};
    case store::SpecialUse::kAll: return "\\All";
    case store::SpecialUse::kArchive: return "\\Archive";
    case store::SpecialUse::kDrafts: return "\\Drafts";
    case store::SpecialUse::kFlagged: return "\\Flagged";
    case store::SpecialUse::kJunk: return "\\Junk";
    case store::SpecialUse::kSent: return "\\Sent";
    case store::SpecialUse::kTrash: return "\\Trash";
  }
  return {};
}

// A name that can be listed: a mailbox, a subscription, or a level above either.
struct Node {
  std::string name;
  bool exists = false;
  bool subscribed = false;
  store::SpecialUse special_use = store::SpecialUse::kNone;
};

// Every mailbox and subscription with all the levels above them, in hierarchy order.
std::vector<Node> collect(std::span<const store::Mailbox> mailboxes, std::span<const std::string> lost) {
  std::vector<Node> nodes;
  std::unordered_map<std::string, std::size_t> index;
  auto node = [&](std::string_view name) -> Node& {
    auto [it, inserted] = index.try_emplace(std::string(name), nodes.size());
    if (inserted) nodes.push_back(Node{std::string(name)});
    return nodes[it->second];
  };
  for (const auto& m : mailboxes) {
    Node& n = node(m.name);
    n.exists = true;
    n.subscribed = n.subscribed || m.subscribed;
    n.special_use = m.special_use;
  }
  for (const auto& name : lost) node(name).subscribed = true;
  for (std::size_t i = 0, count = nodes.size(); i < count; ++i) {
    std::string name = nodes[i].name;  // a copy: node() may reallocate nodes
    for (std::size_t p = name.find(kHierarchyDelimiter); p != std::string::npos && p > 0;
         p = name.find(kHierarchyDelimiter, p + 1)) {
      node(std::string_view(name).substr(0, p));
    }
  }
  std::sort(nodes.begin(), nodes.end(), [](const Node& a, const Node& b) { return hierarchy_less(a.name, b.name); });
  return nodes;
}

struct Query {
  std::vector<std::string> patterns;  // canonical (reference applied); "" asks for the root
  bool (*pick)(const Node&) = nullptr;  // the selection criteria
  bool parents = false;          // list unpicked names that hide picked descendants
  bool childinfo = false;        // RECURSIVEMATCH: say why such names are listed
  std::vector<std::string_view> childinfo_items;
  bool lsub = false;
  bool nonexistent = false;      // \NonExistent rather than \Noselect
  bool show_subscribed = false;
};

std::vector<ListEntry> run(const Query& q, std::span<const store::Mailbox> mailboxes,
                           std::span<const std::string> lost, bool root) {
  std::vector<ListEntry> out;
  if (root) out.push_back(ListEntry{"", {"\\Noselect"}, {}, false});

  std::vector<Node> nodes = collect(mailboxes, lost);
  const std::size_t n = nodes.size();
  std::vector<char> matched(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& pattern : q.patterns) {
      if (!pattern.empty() && list_match(pattern, nodes[i].name)) {
        matched[i] = 1;
        break;
      }
    }
  }
  // Each name's descendants are nodes[i + 1, end[i]); prefix counts answer "does any
  // descendant exist / is any picked but unmatched" in O(1).
  std::vector<std::size_t> end(n, n);
  std::vector<std::size_t> open;
  for (std::size_t j = 0; j < n; ++j) {
    while (!open.empty() && !is_below(nodes[j].name, nodes[open.back()].name)) {
      end[open.back()] = j;
      open.pop_back();
    }
    open.push_back(j);
  }
  std::vector<std::size_t> existing(n + 1, 0), hidden(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    existing[i + 1] = existing[i] + (nodes[i].exists ? 1 : 0);
    hidden[i + 1] = hidden[i] + (q.pick(nodes[i]) && !matched[i] ? 1 : 0);
  }

  for (std::size_t i = 0; i < n; ++i) {
    if (!matched[i]) continue;
    const Node& node = nodes[i];
    const bool picked = q.pick(node);
    const bool hides = hidden[end[i]] - hidden[i + 1] > 0;
    if (!picked && !(q.parents && hides)) continue;
    ListEntry e;
    e.name = node.name;
    e.exists = node.exists;
    if (q.lsub) {
      if (!picked || !node.exists) e.attributes.push_back("\\Noselect");
    } else {
      if (q.show_subscribed && node.subscribed) e.attributes.push_back("\\Subscribed");
      if (!node.exists) e.attributes.push_back(q.nonexistent ? "\\NonExistent" : "\\Noselect");
      if (existing[end[i]] - existing[i + 1] > 0) {
        e.attributes.push_back("\\HasChildren");
      } else if (node.exists) {
        e.attributes.push_back("\\HasNoChildren");
      }
      if (node.exists && node.special_use != store::SpecialUse::kNone) {
        e.attributes.push_back(special_use_attribute(node.special_use));
      }
    }
    if (q.childinfo && hides) e.childinfo = q.childinfo_items;
    out.push_back(std::move(e));
  }
  return out;
}

std::string format_line(std::string_view verb, const ListEntry& entry, bool utf8) {
  std::string out = "* ";
  out += verb;
  out += " (";
  for (std::size_t i = 0; i < entry.attributes.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out += entry.attributes[i];
  }
  out += ") \"/\" ";
  proto::append_mailbox(out, entry.name, utf8);
  if (!entry.childinfo.empty()) {
    out += " (\"CHILDINFO\" (";
    for (std::size_t i = 0; i < entry.childinfo.size(); ++i) {
      if (i > 0) out.push_back(' ');
      proto::append_quoted(out, entry.childinfo[i]);
    }
    out += "))";
  }
  out += "\r\n";
  return out;
}

}  // namespace

std::string list_pattern(std::string_view reference, std::string_view pattern) {
  // RFC 9051 6.3.9: a pattern starting with the delimiter is absolute.
  if (!pattern.empty() && pattern.front() == kHierarchyDelimiter) return std::string(pattern);
  std::string out(reference);
  out += pattern;
  return out;
}

bool list_match(std::string_view pattern, std::string_view name) {
  // A simulation of the pattern as an automaton: states are pattern positions; a wildcard
  // may match nothing (epsilon to the next position) or one more byte (stay).
  const std::size_t p = pattern.size();
  const bool inbox = in_inbox_tree(name);
  std::vector<char> cur(p + 1, 0), next(p + 1, 0);
  auto close = [&](std::vector<char>& states) {
    for (std::size_t j = 0; j < p; ++j) {
      if (states[j] && (pattern[j] == '*' || pattern[j] == '%')) states[j + 1] = 1;
    }
  };
  cur[0] = 1;
  close(cur);
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    std::fill(next.begin(), next.end(), 0);
    bool alive = false;
    for (std::size_t j = 0; j < p; ++j) {
      if (!cur[j]) continue;
      const char want = pattern[j];
      if (want == '*' || (want == '%' && c != kHierarchyDelimiter)) {
        next[j] = 1;
        alive = true;
      } else if (want == c || (inbox && i < 5 && lower(want) == lower(c))) {
        next[j + 1] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    close(next);
    std::swap(cur, next);
  }
  return cur[p];
}

std::vector<ListEntry> list_mailboxes(const proto::List& cmd, std::span<const store::Mailbox> mailboxes,
                                      std::span<const std::string> lost_subscriptions) {
  Query q;
  bool root = false;
  for (const auto& pattern : cmd.patterns) {
    if (pattern.empty()) {
      root = true;
    } else {
      q.patterns.push_back(list_pattern(cmd.reference, pattern));
    }
  }
  const auto& sel = cmd.select;
  if (sel.subscribed && sel.special_use) {
    q.pick = [](const Node& n) { return n.subscribed && n.exists && n.special_use != store::SpecialUse::kNone; };
  } else if (sel.subscribed) {
    q.pick = [](const Node& n) { return n.subscribed; };
  } else if (sel.special_use) {
    q.pick = [](const Node& n) { return n.exists && n.special_use != store::SpecialUse::kNone; };
  } else {
    q.pick = [](const Node& n) { return n.exists; };
  }
  const bool selective = sel.subscribed || sel.special_use;
  q.parents = !selective || sel.recursive_match;
  q.childinfo = selective && sel.recursive_match;
  if (sel.subscribed) q.childinfo_items.push_back("SUBSCRIBED");
  if (sel.special_use) q.childinfo_items.push_back("SPECIAL-USE");
  q.nonexistent = cmd.extended;
  q.show_subscribed = sel.subscribed || cmd.returns.subscribed;
  return run(q, mailboxes, lost_subscriptions, root);
}

std::vector<ListEntry> lsub_mailboxes(const proto::Lsub& cmd, std::span<const store::Mailbox> mailboxes,
                                      std::span<const std::string> lost_subscriptions) {
  Query q;
  const bool root = cmd.pattern.empty();
  if (!root) q.patterns.push_back(list_pattern(cmd.reference, cmd.pattern));
  q.pick = [](const Node& n) { return n.subscribed; };
  q.parents = true;
  q.lsub = true;
  return run(q, mailboxes, lost_subscriptions, root);
}

std::string format_list_line(const ListEntry& entry, bool utf8) { return format_line("LIST", entry, utf8); }

std::string format_lsub_line(const ListEntry& entry, bool utf8) { return format_line("LSUB", entry, utf8); }

tl::expected<std::string, std::string> normalize_mailbox_name(std::string_view name, bool create) {
  auto refuse = [](std::string_view why) { return tl::unexpected(std::string(why)); };
  if (create && !name.empty() && name.back() == kHierarchyDelimiter) name.remove_suffix(1);
  if (name.empty()) return refuse("Mailbox name is empty");
  if (name.size() > kMaxMailboxName) return refuse("Mailbox name is too long");
  if (!proto::is_valid_utf8(name)) return refuse("Mailbox name is not valid UTF-8");
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return refuse("Mailbox name holds a control character");
    if (c == '*' || c == '%') return refuse("Mailbox name holds a wildcard (* or %)");
  }
  if (name.front() == kHierarchyDelimiter) return refuse("Mailbox name begins with the hierarchy delimiter");
  if (name.back() == kHierarchyDelimiter) return refuse("Mailbox name ends with the hierarchy delimiter");
  std::string out;
  out.reserve(name.size());
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = name.find(kHierarchyDelimiter, start);
    std::string_view level = name.substr(start, slash == std::string_view::npos ? name.size() - start : slash - start);
    if (level.empty()) return refuse("Mailbox name has an empty level");
    if (level.size() > kMaxMailboxLevel) return refuse("Mailbox name level is too long");
    if (start == 0 && iequals(level, "INBOX")) {
      out += "INBOX";
    } else {
      out += level;
    }
    if (slash == std::string_view::npos) break;
    out.push_back(kHierarchyDelimiter);
    start = slash + 1;
  }
  return out;
}

bool is_below(std::string_view name, std::string_view ancestor) {
  return !ancestor.empty() && name.size() > ancestor.size() && name.starts_with(ancestor) &&
         name[ancestor.size()] == kHierarchyDelimiter;
}

}  // namespace tern::imap
