#include "cli/admin.h"

#include <sys/random.h>

#include <cstdio>

#include <fmt/format.h>

#include "auth/password.h"
#include "base/strings.h"

namespace tern::cli {
namespace {

bool valid_address(std::string_view address) {
  auto parts = store::split_address(address);
  return parts && parts->first.size() <= 64 && address.size() <= 254 && valid_domain(parts->second) &&
         address.find_first_of(" \t\r\n<>,;") == std::string_view::npos;
}

// 24 characters from a 54-symbol alphabet without look-alikes: ~138 bits.
std::string random_password() {
  static constexpr std::string_view kAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  while (out.size() < 24) {
    unsigned char buf[64];
    if (getrandom(buf, sizeof buf, 0) != static_cast<ssize_t>(sizeof buf)) continue;
    for (unsigned char b : buf) {
      // Rejection sampling keeps the distribution uniform.
      if (b < 256 - 256 % kAlphabet.size() && out.size() < 24) out += kAlphabet[b % kAlphabet.size()];
    }
  }
  return out;
}

}  // namespace

int fail(std::string_view what, const Error& e) {
  fmt::print(stderr, "tern: {}: {}\n", what, e.message);
  return 1;
}

std::optional<store::Account> need_account(store::MailStore& s, const std::string& address) {
  auto acct = s.find_account(store::normalize_address(address));
  if (!acct) {
    fail("lookup failed", acct.error());
    return std::nullopt;
  }
  if (!*acct) {
    fmt::print(stderr, "tern: no such user: {}\n", address);
    return std::nullopt;
  }
  return **acct;
}


bool valid_domain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (auto label : split(name, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
  }
  return true;
}

int domain_add(store::MailStore& s, const std::string& name) {
  std::string domain = ascii_lower(name);
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (!valid_domain(domain)) {
    fmt::print(stderr, "tern: not a valid domain name: {}\n", name);
    return 1;
  }
  auto r = s.add_domain(domain);
  if (!r) return fail("cannot add domain", r.error());
  fmt::print("added domain {}\n", domain);
  return 0;
}

int domain_del(store::MailStore& s, const std::string& name) {
  auto r = s.delete_domain(ascii_lower(name));
  if (!r) return fail("cannot delete domain", r.error());
  fmt::print("deleted domain {}\n", ascii_lower(name));
  return 0;
}

int domain_list(store::MailStore& s) {
  auto r = s.list_domains();
  if (!r) return fail("cannot list domains", r.error());
  for (const auto& d : *r) fmt::print("{}\n", d.name);
  return 0;
}

int user_add(store::MailStore& s, const std::string& address, const std::string& password) {
  std::string addr = store::normalize_address(address);
  if (!valid_address(addr)) {
    fmt::print(stderr, "tern: not a valid address: {}\n", address);
    return 1;
  }
  auto hash = auth::hash_password(password);
  if (!hash) return fail("cannot hash password", hash.error());
  auto r = s.add_account(addr, *hash);
  if (!r) {
    if (r.error().code == ErrorCode::kNotFound) {
      fmt::print(stderr, "tern: domain of {} is not local; add it first: tern domain add {}\n", addr,
                 store::split_address(addr)->second);
      return 1;
    }
    return fail("cannot add user", r.error());
  }
  fmt::print("added user {}\n", addr);
  return 0;
}

int user_del(store::MailStore& s, const std::string& address) {
  auto r = s.delete_account(store::normalize_address(address));
  if (!r) return fail("cannot delete user", r.error());
  fmt::print("deleted user {}\n", store::normalize_address(address));
  return 0;
}

int user_list(store::MailStore& s) {
  auto r = s.list_accounts();
  if (!r) return fail("cannot list users", r.error());
  for (const auto& a : *r) fmt::print("{}\n", a.address);
  return 0;
}

int user_passwd(store::MailStore& s, const std::string& address, const std::string& password) {
  auto acct = need_account(s, address);
  if (!acct) return 1;
  auto hash = auth::hash_password(password);
  if (!hash) return fail("cannot hash password", hash.error());
  auto r = s.set_password(acct->id, *hash);
  if (!r) return fail("cannot set password", r.error());
  fmt::print("password changed for {}\n", acct->address);
  return 0;
}

int app_password_add(store::MailStore& s, const std::string& address, const std::string& label) {
  auto acct = need_account(s, address);
  if (!acct) return 1;
  std::string password = random_password();
  auto hash = auth::hash_password(password);
  if (!hash) return fail("cannot hash password", hash.error());
  auto r = s.add_app_password(acct->id, label, *hash);
  if (!r) return fail("cannot add app password", r.error());
  fmt::print("app password {} ({}) for {}: {}\n", r->id, label, acct->address, password);
  fmt::print("it is shown only now; use it in place of the account password\n");
  return 0;
}

int app_password_list(store::MailStore& s, const std::string& address) {
  auto acct = need_account(s, address);
  if (!acct) return 1;
  auto r = s.list_app_passwords(acct->id);
  if (!r) return fail("cannot list app passwords", r.error());
  for (const auto& p : *r) {
    fmt::print("{}\t{}\tcreated {}\tlast used {}\n", p.id, p.label, p.created,
               p.last_used ? std::to_string(p.last_used) : std::string("never"));
  }
  return 0;
}

int app_password_del(store::MailStore& s, const std::string& address, store::Id id) {
  auto acct = need_account(s, address);
  if (!acct) return 1;
  auto r = s.delete_app_password(acct->id, id);
  if (!r) return fail("cannot delete app password", r.error());
  fmt::print("deleted app password {} of {}\n", id, acct->address);
  return 0;
}

int alias_add(store::MailStore& s, const std::string& alias, const std::vector<std::string>& targets) {
  std::string addr = store::normalize_address(alias);
  if (!valid_address(addr)) {
    fmt::print(stderr, "tern: not a valid address: {}\n", alias);
    return 1;
  }
  std::vector<std::string> norm;
  for (const auto& t : targets) {
    if (!valid_address(store::normalize_address(t))) {
      fmt::print(stderr, "tern: not a valid target address: {}\n", t);
      return 1;
    }
    norm.push_back(store::normalize_address(t));
  }
  auto r = s.add_alias(addr, norm);
  if (!r) return fail("cannot add alias", r.error());
  fmt::print("alias {} -> {}\n", addr, fmt::join(norm, ", "));
  return 0;
}

int alias_del(store::MailStore& s, const std::string& alias, const std::vector<std::string>& targets) {
  std::vector<std::string> norm;
  for (const auto& t : targets) norm.push_back(store::normalize_address(t));
  auto r = s.delete_alias(store::normalize_address(alias), norm);
  if (!r) return fail("cannot delete alias", r.error());
  fmt::print("deleted alias {}{}\n", store::normalize_address(alias),
             norm.empty() ? std::string() : fmt::format(" -> {}", fmt::join(norm, ", ")));
  return 0;
}

int alias_list(store::MailStore& s) {
  auto r = s.list_aliases();
  if (!r) return fail("cannot list aliases", r.error());
  for (const auto& a : *r) fmt::print("{} -> {}\n", a.address, fmt::join(a.targets, ", "));
  return 0;
}

}  // namespace tern::cli
