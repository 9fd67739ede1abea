#include "imap/proto/command.h"

#include "base/strings.h"

namespace tern::imap::proto {
namespace {

using Result = tl::expected<Command, std::string>;

// RFC 2971 3.3 limits.
constexpr std::size_t kMaxIdPairs = 30;
constexpr std::size_t kMaxIdField = 30;
constexpr std::size_t kMaxIdValue = 1024;

// Everything a command parser needs.
struct Ctx {
  ArgReader& r;
  const std::string& error;
  bool utf8;
  bool uid;

  // The command, or the recorded error; fails when arguments remain.
  Result done(Command c) {
    r.end();
    if (r.failed()) return tl::unexpected(error);
    return c;
  }
};

std::optional<StatusItem> status_item(std::string_view name) {
  static constexpr std::pair<std::string_view, StatusItem> kItems[] = {
      {"MESSAGES", StatusItem::kMessages},       {"RECENT", StatusItem::kRecent},
      {"UIDNEXT", StatusItem::kUidNext},         {"UIDVALIDITY", StatusItem::kUidValidity},
      {"UNSEEN", StatusItem::kUnseen},           {"DELETED", StatusItem::kDeleted},
      {"SIZE", StatusItem::kSize},               {"HIGHESTMODSEQ", StatusItem::kHighestModSeq},
      {"APPENDLIMIT", StatusItem::kAppendLimit},
  };
  for (const auto& [n, item] : kItems) {
    if (iequals(name, n)) return item;
  }
  return std::nullopt;
}

std::vector<StatusItem> read_status_items(ArgReader& r) {
  std::vector<StatusItem> items;
  ArgReader list = r.list("STATUS items");
  if (list.at_end()) r.fail("Missing STATUS items");
  while (!list.at_end()) {
    Arg* a = list.next("STATUS item");
    auto item = a->kind == Arg::Kind::kAtom ? status_item(a->value) : std::nullopt;
    if (!item) {
      r.fail("Unknown STATUS item " + (a->kind == Arg::Kind::kAtom ? echo(a->value) : std::string()));
      break;
    }
    items.push_back(*item);
  }
  return items;
}

// A sequence set in which `*` makes no sense (QRESYNC known UIDs and sequence match data).
SequenceSet read_starless_set(ArgReader& r) {
  SequenceSet set = r.sequence_set();
  if (!r.failed() && set.has_star()) r.fail("* is not allowed here");
  return set;
}

// mod-sequence-valzer (RFC 7162 7): 0 .. 2^63-1.
std::uint64_t read_modseq(ArgReader& r) { return r.number64("mod-sequence"); }

Result no_args(Ctx c, Command cmd) { return c.done(std::move(cmd)); }

Result cmd_authenticate(Ctx c) {
  Authenticate a;
  a.mechanism = c.r.atom_upper("authentication mechanism");
  if (!c.r.failed() && !is_atom(a.mechanism)) c.r.fail("Invalid authentication mechanism");
  if (!c.r.at_end()) {
    // RFC 4959: initial-resp = base64 / "="
    Arg* ir = c.r.next("initial response");
    bool ok = ir->kind == Arg::Kind::kAtom;
    for (char ch : ir->value) {
      ok = ok && ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' ||
                  ch == '/' || ch == '=');
    }
    if (!ok) c.r.fail("Invalid initial response");
    a.initial_response = std::move(ir->value);
  }
  return c.done(std::move(a));
}

Result cmd_login(Ctx c) {
  Login l;
  l.user = c.r.astring("user name");
  l.password = c.r.astring("password");
  return c.done(std::move(l));
}

Result cmd_enable(Ctx c) {
  Enable e;
  if (c.r.at_end()) c.r.fail("Missing capability");
  while (!c.r.at_end()) {
    std::string cap = c.r.atom_upper("capability");
    if (!c.r.failed() && !is_atom(cap)) c.r.fail("Invalid capability " + echo(cap));
    e.capabilities.push_back(std::move(cap));
  }
  return c.done(std::move(e));
}

Result cmd_id(Ctx c) {
  Id id;
  if (c.r.accept_atom("NIL")) return c.done(std::move(id));
  ArgReader list = c.r.list("ID parameters");
  id.params.emplace();
  while (!list.at_end()) {
    std::string field = list.astring("ID field");
    std::optional<std::string> value;
    if (!list.accept_atom("NIL")) value = list.astring("ID value");
    if (list.failed()) break;
    if (id.params->size() == kMaxIdPairs || field.size() > kMaxIdField || (value && value->size() > kMaxIdValue)) {
      list.fail("ID parameters exceed the RFC 2971 limits");
      break;
    }
    id.params->emplace_back(std::move(field), std::move(value));
  }
  return c.done(std::move(id));
}

Result cmd_select(Ctx c, bool readonly) {
  Select s;
  s.readonly = readonly;
  s.mailbox = c.r.mailbox(c.utf8);
  if (c.r.peek_list()) {
    // RFC 4466 select-params
    ArgReader params = c.r.list("SELECT parameters");
    while (!params.at_end()) {
      std::string name = params.atom_upper("SELECT parameter");
      if (name == "CONDSTORE") {
        s.condstore = true;
      } else if (name == "QRESYNC") {
        if (s.qresync) params.fail("Duplicate QRESYNC parameter");
        // RFC 7162 3.2.5: "(" uidvalidity SP mod-sequence-value [SP known-uids]
        //                 [SP seq-match-data] ")"
        ArgReader q = params.list("QRESYNC parameters");
        Qresync qr;
        qr.uidvalidity = q.nz_number("UIDVALIDITY");
        qr.modseq = read_modseq(q);
        if (!q.at_end() && !q.peek_list()) qr.known_uids = read_starless_set(q);
        if (q.peek_list()) {
          ArgReader m = q.list("sequence match data");
          Qresync::SeqMatch match;
          match.seqs = read_starless_set(m);
          match.uids = read_starless_set(m);
          m.end();
          qr.seq_match = std::move(match);
        }
        q.end();
        s.qresync = std::move(qr);
      } else if (!params.failed()) {
        params.fail("Unknown SELECT parameter " + echo(name));
      }
    }
  }
  return c.done(std::move(s));
}

Result cmd_create(Ctx c) {
  Create cr;
  cr.mailbox = c.r.mailbox(c.utf8);
  if (c.r.peek_list()) {
    // RFC 4466 create-params; RFC 6154 5.2 USE (attributes)
    ArgReader params = c.r.list("CREATE parameters");
    while (!params.at_end()) {
      std::string name = params.atom_upper("CREATE parameter");
      if (name != "USE") {
        params.fail("Unknown CREATE parameter " + echo(name));
        break;
      }
      ArgReader use = params.list("special-use attributes");
      while (!use.at_end()) {
        Arg* attr = use.next("special-use attribute");
        if (attr->kind != Arg::Kind::kAtom || attr->value.size() < 2 || attr->value[0] != '\\' ||
            !is_atom(std::string_view(attr->value).substr(1))) {
          use.fail("Invalid special-use attribute");
          break;
        }
        // RFC 6154 2: the known attributes in their registered spelling, others as sent.
        static constexpr std::string_view kKnown[] = {"\\All",  "\\Archive", "\\Drafts", "\\Flagged",
                                                      "\\Junk", "\\Sent",    "\\Trash"};
        std::string name = std::move(attr->value);
        for (auto known : kKnown) {
          if (iequals(name, known)) name = known;
        }
        cr.special_use.push_back(std::move(name));
      }
    }
  }
  return c.done(std::move(cr));
}

Result cmd_mailbox_only(Ctx c, std::string_view verb) {
  std::string mailbox = c.r.mailbox(c.utf8);
  if (verb == "DELETE") return c.done(Delete{std::move(mailbox)});
  if (verb == "SUBSCRIBE") return c.done(Subscribe{std::move(mailbox)});
  if (verb == "UNSUBSCRIBE") return c.done(Unsubscribe{std::move(mailbox)});
  return c.done(GetQuotaRoot{std::move(mailbox)});
}

Result cmd_rename(Ctx c) {
  Rename r;
  r.from = c.r.mailbox(c.utf8);
  r.to = c.r.mailbox(c.utf8);
  return c.done(std::move(r));
}

Result cmd_list(Ctx c) {
  List l;
  if (c.r.peek_list()) {
    // RFC 5258 list-select-opts
    l.extended = true;
    ArgReader opts = c.r.list("LIST selection options");
    while (!opts.at_end()) {
      std::string name = opts.atom_upper("LIST selection option");
      if (name == "SUBSCRIBED") {
        l.select.subscribed = true;
      } else if (name == "REMOTE") {
        l.select.remote = true;
      } else if (name == "RECURSIVEMATCH") {
        l.select.recursive_match = true;
      } else if (name == "SPECIAL-USE") {  // RFC 6154 5.1
        l.select.special_use = true;
      } else if (!opts.failed()) {
        opts.fail("Unknown LIST selection option " + echo(name));
      }
    }
    // RFC 5258 3.1: RECURSIVEMATCH needs another option to modify.
    if (l.select.recursive_match && !l.select.subscribed && !l.select.special_use) {
      c.r.fail("RECURSIVEMATCH needs SUBSCRIBED or SPECIAL-USE");
    }
  }
  l.reference = c.r.list_mailbox(c.utf8, "reference name");
  if (c.r.peek_list()) {
    l.extended = true;
    ArgReader patterns = c.r.list("mailbox patterns");
    if (patterns.at_end()) c.r.fail("Missing mailbox pattern");
    while (!patterns.at_end()) l.patterns.push_back(patterns.list_mailbox(c.utf8, "mailbox pattern"));
  } else {
    l.patterns.push_back(c.r.list_mailbox(c.utf8, "mailbox pattern"));
  }
  if (c.r.accept_atom("RETURN")) {
    // RFC 5258 list-return-opts, RFC 5819 STATUS, RFC 6154 SPECIAL-USE
    l.extended = true;
    ArgReader opts = c.r.list("LIST return options");
    while (!opts.at_end()) {
      std::string name = opts.atom_upper("LIST return option");
      if (name == "SUBSCRIBED") {
        l.returns.subscribed = true;
      } else if (name == "CHILDREN") {
        l.returns.children = true;
      } else if (name == "SPECIAL-USE") {
        l.returns.special_use = true;
      } else if (name == "STATUS") {
        if (l.returns.status) opts.fail("Duplicate STATUS return option");
        l.returns.status = read_status_items(opts);
      } else if (!opts.failed()) {
        opts.fail("Unknown LIST return option " + echo(name));
      }
    }
  }
  return c.done(std::move(l));
}

Result cmd_lsub(Ctx c) {
  Lsub l;
  l.reference = c.r.list_mailbox(c.utf8, "reference name");
  l.pattern = c.r.list_mailbox(c.utf8, "mailbox pattern");
  return c.done(std::move(l));
}

Result cmd_status(Ctx c) {
  Status s;
  s.mailbox = c.r.mailbox(c.utf8);
  s.items = read_status_items(c.r);
  return c.done(std::move(s));
}

Result cmd_append(Ctx c) {
  // RFC 3502: append = "APPEND" SP mailbox 1*append-message
  //           append-message = append-opts SP append-data
  //           append-opts = [SP flag-list] [SP date-time]
  Append a;
  a.mailbox = c.r.mailbox(c.utf8);
  if (c.r.at_end()) c.r.fail("Missing message");
  while (!c.r.at_end()) {
    AppendMessage m;
    if (c.r.peek_list()) m.flags = c.r.flags(false);
    if (Arg* d = c.r.peek(); d != nullptr && d->kind == Arg::Kind::kQuoted) {
      auto dt = parse_date_time(d->value);
      if (!dt) c.r.fail("Invalid date-time " + echo(d->value));
      if (dt) m.internal_date = *dt;
      c.r.next("date-time");
    }
    Arg* data = c.r.next("message literal");
    if (data == nullptr) break;
    if (data->kind != Arg::Kind::kLiteral && data->kind != Arg::Kind::kLiteral8) {
      c.r.fail("Expected the message as a literal");
      break;
    }
    m.binary = data->kind == Arg::Kind::kLiteral8;
    m.bytes = std::move(data->value);
    a.messages.push_back(std::move(m));
  }
  return c.done(std::move(a));
}

Result cmd_search(Ctx c) {
  Search s;
  s.uid = c.uid;
  if (c.r.accept_atom("RETURN")) {
    // RFC 4731 search-return-opts; RETURN () is RETURN (ALL).
    SearchReturn ret;
    ArgReader opts = c.r.list("SEARCH return options");
    if (opts.at_end()) ret.all = true;
    while (!opts.at_end()) {
      std::string name = opts.atom_upper("SEARCH return option");
      if (name == "MIN") {
        ret.min = true;
      } else if (name == "MAX") {
        ret.max = true;
      } else if (name == "ALL") {
        ret.all = true;
      } else if (name == "COUNT") {
        ret.count = true;
      } else if (name == "SAVE") {
        opts.fail("SAVE (SEARCHRES) is not supported");
      } else if (!opts.failed()) {
        opts.fail("Unknown SEARCH return option " + echo(name));
      }
    }
    s.returns = ret;
  }
  if (c.r.accept_atom("CHARSET")) {
    s.charset = ascii_upper(c.r.astring("charset"));
  }
  s.keys = read_search_keys(c.r);
  return c.done(std::move(s));
}

Result cmd_fetch(Ctx c) {
  Fetch f;
  f.uid = c.uid;
  f.set = c.r.sequence_set();
  f.items = read_fetch_atts(c.r);
  if (c.r.peek_list()) {
    // RFC 4466 fetch-modifiers; RFC 7162 CHANGEDSINCE and VANISHED
    ArgReader mods = c.r.list("FETCH modifiers");
    while (!mods.at_end()) {
      std::string name = mods.atom_upper("FETCH modifier");
      if (name == "CHANGEDSINCE") {
        if (f.changed_since) mods.fail("Duplicate CHANGEDSINCE");
        f.changed_since = read_modseq(mods);
      } else if (name == "VANISHED") {
        f.vanished = true;
      } else if (!mods.failed()) {
        mods.fail("Unknown FETCH modifier " + echo(name));
      }
    }
    // RFC 7162 3.2.6: VANISHED only in UID FETCH, and only with CHANGEDSINCE.
    if (f.vanished && (!f.uid || !f.changed_since)) c.r.fail("VANISHED needs UID FETCH and CHANGEDSINCE");
  }
  return c.done(std::move(f));
}

Result cmd_store(Ctx c) {
  Store s;
  s.uid = c.uid;
  s.set = c.r.sequence_set();
  if (c.r.peek_list()) {
    // RFC 7162 3.1.3: store-modifier = "UNCHANGEDSINCE" SP mod-sequence-valzer
    ArgReader mods = c.r.list("STORE modifiers");
    while (!mods.at_end()) {
      std::string name = mods.atom_upper("STORE modifier");
      if (name == "UNCHANGEDSINCE") {
        if (s.unchanged_since) mods.fail("Duplicate UNCHANGEDSINCE");
        s.unchanged_since = read_modseq(mods);
      } else if (!mods.failed()) {
        mods.fail("Unknown STORE modifier " + echo(name));
      }
    }
  }
  // store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
  std::string item = c.r.atom_upper("STORE data item");
  std::string_view rest = item;
  if (rest.starts_with('+')) {
    s.mode = Store::Mode::kAdd;
    rest.remove_prefix(1);
  } else if (rest.starts_with('-')) {
    s.mode = Store::Mode::kRemove;
    rest.remove_prefix(1);
  }
  if (rest == "FLAGS.SILENT") {
    s.silent = true;
  } else if (rest != "FLAGS" && !c.r.failed()) {
    c.r.fail("Unknown STORE data item " + echo(item));
  }
  s.flags = c.r.flags(true);
  return c.done(std::move(s));
}

Result cmd_copy_move(Ctx c, bool move) {
  SequenceSet set = c.r.sequence_set();
  std::string mailbox = c.r.mailbox(c.utf8);
  if (move) return c.done(Move{c.uid, std::move(set), std::move(mailbox)});
  return c.done(Copy{c.uid, std::move(set), std::move(mailbox)});
}

Result cmd_uid(Ctx c) {
  std::string sub = c.r.atom_upper("UID command");
  if (c.r.failed()) return tl::unexpected(c.error);
  c.uid = true;
  if (sub == "FETCH") return cmd_fetch(c);
  if (sub == "SEARCH") return cmd_search(c);
  if (sub == "STORE") return cmd_store(c);
  if (sub == "COPY") return cmd_copy_move(c, false);
  if (sub == "MOVE") return cmd_copy_move(c, true);
  if (sub == "EXPUNGE") {
    SequenceSet set = c.r.sequence_set();
    return c.done(UidExpunge{std::move(set)});
  }
  return tl::unexpected("Unknown UID command " + echo(sub));
}

}  // namespace

std::string_view status_item_name(StatusItem item) {
  switch (item) {
    case StatusItem::kMessages: return "MESSAGES";
    case StatusItem::kRecent: return "RECENT";
    case StatusItem::kUidNext: return "UIDNEXT";
    case StatusItem::kUidValidity: return "UIDVALIDITY";
    case StatusItem::kUnseen: return "UNSEEN";
    case StatusItem::kDeleted: return "DELETED";
    case StatusItem::kSize: return "SIZE";
    case StatusItem::kHighestModSeq: return "HIGHESTMODSEQ";
    case StatusItem::kAppendLimit: return "APPENDLIMIT";
  }
  return "";
}

bool is_idle_done(std::string_view line) { return iequals(line, "DONE"); }

tl::expected<Command, std::string> interpret(Request request, const InterpretOptions& options) {
  std::string error;
  ArgReader reader(request.args, error);
  Ctx c{reader, error, options.utf8_accept, false};
  const std::string& name = request.command;
  // Grouped by first letter would be faster; 32 short compares are well under a microsecond.
  if (name == "FETCH") return cmd_fetch(c);
  if (name == "UID") return cmd_uid(c);
  if (name == "STORE") return cmd_store(c);
  if (name == "SEARCH") return cmd_search(c);
  if (name == "NOOP") return no_args(c, Noop{});
  if (name == "IDLE") return no_args(c, Idle{});
  if (name == "SELECT") return cmd_select(c, false);
  if (name == "EXAMINE") return cmd_select(c, true);
  if (name == "STATUS") return cmd_status(c);
  if (name == "LIST") return cmd_list(c);
  if (name == "LSUB") return cmd_lsub(c);
  if (name == "APPEND") return cmd_append(c);
  if (name == "COPY") return cmd_copy_move(c, false);
  if (name == "MOVE") return cmd_copy_move(c, true);
  if (name == "EXPUNGE") return no_args(c, Expunge{});
  if (name == "CLOSE") return no_args(c, Close{});
  if (name == "UNSELECT") return no_args(c, Unselect{});
  if (name == "CHECK") return no_args(c, Check{});
  if (name == "CAPABILITY") return no_args(c, Capability{});
  if (name == "LOGIN") return cmd_login(c);
  if (name == "AUTHENTICATE") return cmd_authenticate(c);
  if (name == "LOGOUT") return no_args(c, Logout{});
  if (name == "STARTTLS") return no_args(c, StartTls{});
  if (name == "ENABLE") return cmd_enable(c);
  if (name == "ID") return cmd_id(c);
  if (name == "NAMESPACE") return no_args(c, Namespace{});
  if (name == "CREATE") return cmd_create(c);
  if (name == "RENAME") return cmd_rename(c);
  if (name == "DELETE" || name == "SUBSCRIBE" || name == "UNSUBSCRIBE" || name == "GETQUOTAROOT") {
    return cmd_mailbox_only(c, name);
  }
  if (name == "GETQUOTA") {
    std::string root = reader.astring("quota root");
    return c.done(GetQuota{std::move(root)});
  }
  return tl::unexpected("Unknown command " + echo(name));
}

}  // namespace tern::imap::proto
