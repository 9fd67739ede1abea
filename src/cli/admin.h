// cli/admin.h: the administrative subcommands (domain, user, alias, app passwords).
//
// Each function opens nothing itself: it works on the store it is given, prints what a
// user should see on stdout, errors on stderr, and returns the process exit code
// (0 success, 1 failure). They run while a server uses the same store: SQLite serialises
// the writers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/mail_store.h"

namespace tern::cli {

// Prints "tern: WHAT: the error" on stderr and returns 1 (the exit code of a failure).
int fail(std::string_view what, const Error& e);
// The account for `address`, or nullopt after printing why there is none.
std::optional<store::Account> need_account(store::MailStore& s, const std::string& address);

int domain_add(store::MailStore& store, const std::string& name);
int domain_del(store::MailStore& store, const std::string& name);
int domain_list(store::MailStore& store);

int user_add(store::MailStore& store, const std::string& address, const std::string& password);
int user_del(store::MailStore& store, const std::string& address);
int user_list(store::MailStore& store);
int user_passwd(store::MailStore& store, const std::string& address, const std::string& password);

// Generates a random app password, stores its hash and prints the password once.
int app_password_add(store::MailStore& store, const std::string& address, const std::string& label);
int app_password_list(store::MailStore& store, const std::string& address);
int app_password_del(store::MailStore& store, const std::string& address, store::Id id);

int alias_add(store::MailStore& store, const std::string& alias, const std::vector<std::string>& targets);
int alias_del(store::MailStore& store, const std::string& alias, const std::vector<std::string>& targets);
int alias_list(store::MailStore& store);

// True for a syntactically valid DNS domain name (LDH labels, 1-63 octets each, <= 253).
bool valid_domain(std::string_view name);

}  // namespace tern::cli
