// The `tern` command: serve, config check, and the administrative subcommands.
//
// Configuration: --config FILE, else $TERN_CONFIG, else /etc/tern/tern.toml when it exists,
// else the built-in defaults (data directory ./var). Admin commands open the same store as
// the server, so they work while it runs.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/admin.h"
#include "cli/message.h"
#include "cli/queue.h"
#include "cli/password_input.h"
#include "config/config.h"
#include "server/server.h"
#include "server/store_factory.h"
#include "store/copy.h"

namespace {

using namespace tern;

std::string resolve_config_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("TERN_CONFIG"); env && *env) return env;
  if (std::filesystem::exists("/etc/tern/tern.toml")) return "/etc/tern/tern.toml";
  return "";
}

Result<config::Config> load_config(const std::string& flag) {
  std::string path = resolve_config_path(flag);
  if (path.empty()) return config::defaults();
  return config::load_file(path);
}

// Opens the configured store for an admin command; prints the error and returns null.
std::unique_ptr<store::MailStore> open_store(const std::string& config_flag) {
  auto cfg = load_config(config_flag);
  if (!cfg) {
    fmt::print(stderr, "tern: {}\n", cfg.error().message);
    return nullptr;
  }
  // An admin command makes one call at a time: one PostgreSQL read connection is enough, and
  // not opening the server's whole pool makes each command several times faster.
  cfg->store.postgres.pool_size = 1;
  auto st = server::open_store(*cfg, nullptr);
  if (!st) {
    fmt::print(stderr, "tern: cannot open the store: {}\n", st.error().message);
    return nullptr;
  }
  return std::move(*st);
}

// `tern store copy`: copies the store of config `from` into the (new) store of config `to`,
// keeping UIDVALIDITY, UIDs and MODSEQs (store/copy.h). Run it with the servers stopped.
int store_copy(const std::string& from_path, const std::string& to_path) {
  auto from_cfg = config::load_file(from_path);
  if (!from_cfg) {
    fmt::print(stderr, "tern: {}: {}\n", from_path, from_cfg.error().message);
    return 1;
  }
  auto to_cfg = config::load_file(to_path);
  if (!to_cfg) {
    fmt::print(stderr, "tern: {}: {}\n", to_path, to_cfg.error().message);
    return 1;
  }
  auto from = server::open_store(*from_cfg, nullptr);
  if (!from) {
    fmt::print(stderr, "tern: cannot open the source store ({}): {}\n", from_path, from.error().message);
    return 1;
  }
  auto to = server::open_store(*to_cfg, nullptr);
  if (!to) {
    fmt::print(stderr, "tern: cannot open the destination store ({}): {}\n", to_path, to.error().message);
    return 1;
  }
  auto summary = store::copy_store(**from, **to, [](std::string_view address) {
    fmt::print(stderr, "copying {}\n", address);
  });
  if (!summary) {
    fmt::print(stderr, "tern: store copy failed: {}\n", summary.error().message);
    return 1;
  }
  fmt::print("copied {} domains, {} accounts, {} aliases, {} mailboxes, {} messages ({} bytes), {} queued\n",
             summary->domains, summary->accounts, summary->aliases, summary->mailboxes, summary->messages,
             summary->bytes, summary->queued);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Tern: one program that is a whole mail system (SMTP, submission, IMAP, POP3)", "tern"};
  app.set_version_flag("--version", std::string("tern ") + TERN_VERSION);
  app.require_subcommand(1);
  std::string config_path;
  app.add_option("-c,--config", config_path, "configuration file (TOML)");
  app.fallthrough();

  int rc = 0;
  auto run = [&](auto fn) { return [&rc, fn] { rc = fn(); }; };
  // Runs an admin action against the configured store.
  auto with_store = [&](auto action) {
    return run([&config_path, action] {
      auto st = open_store(config_path);
      return st ? action(*st) : 1;
    });
  };

  auto* serve = app.add_subcommand("serve", "run the mail server in the foreground");
  serve->callback(run([&] {
    auto cfg = load_config(config_path);
    if (!cfg) {
      fmt::print(stderr, "tern: {}\n", cfg.error().message);
      return 1;
    }
    return server::run(*cfg);
  }));

  auto* config_cmd = app.add_subcommand("config", "configuration tools")->require_subcommand(1);
  std::string check_file;
  auto* check = config_cmd->add_subcommand("check", "validate a configuration file and print the effective configuration");
  check->add_option("file", check_file, "file to check (default: the configuration in use)");
  check->callback(run([&] {
    std::string path = check_file.empty() ? resolve_config_path(config_path) : check_file;
    auto cfg = path.empty() ? Result<config::Config>(config::defaults()) : config::load_file(path);
    if (!cfg) {
      fmt::print(stderr, "tern: {}\n", cfg.error().message);
      return 1;
    }
    fmt::print("# effective configuration{}\n{}", path.empty() ? " (built-in defaults)" : " from " + path,
               config::to_toml(*cfg));
    return 0;
  }));

  std::string name, address, label;
  std::vector<std::string> targets;
  store::Id app_id = 0;

  auto* domain = app.add_subcommand("domain", "manage local domains")->require_subcommand(1);
  domain->add_subcommand("add", "add a local domain")->callback(with_store([&](store::MailStore& s) {
    return cli::domain_add(s, name);
  }))->add_option("domain", name)->required();
  domain->add_subcommand("del", "delete a local domain (it must have no users or aliases)")
      ->callback(with_store([&](store::MailStore& s) { return cli::domain_del(s, name); }))
      ->add_option("domain", name)->required();
  domain->add_subcommand("list", "list local domains")->callback(with_store([](store::MailStore& s) {
    return cli::domain_list(s);
  }));

  auto* user = app.add_subcommand("user", "manage accounts")->require_subcommand(1);
  user->add_subcommand("add", "add an account; the password is read from a prompt or stdin")
      ->callback(with_store([&](store::MailStore& s) {
        auto pw = cli::read_new_password();
        return pw ? cli::user_add(s, address, *pw) : 1;
      }))
      ->add_option("address", address)->required();
  user->add_subcommand("del", "delete an account with all its mail")
      ->callback(with_store([&](store::MailStore& s) { return cli::user_del(s, address); }))
      ->add_option("address", address)->required();
  user->add_subcommand("list", "list accounts")->callback(with_store([](store::MailStore& s) {
    return cli::user_list(s);
  }));
  user->add_subcommand("passwd", "set an account's password from a prompt or stdin")
      ->callback(with_store([&](store::MailStore& s) {
        auto pw = cli::read_new_password();
        return pw ? cli::user_passwd(s, address, *pw) : 1;
      }))
      ->add_option("address", address)->required();

  auto* app_pw = user->add_subcommand("app-password", "manage an account's app-specific passwords")
                     ->require_subcommand(1);
  auto* app_add = app_pw->add_subcommand("add", "create an app password (printed once)");
  app_add->add_option("address", address)->required();
  app_add->add_option("-l,--label", label, "what the password is for (e.g. \"phone\")")->default_val("app");
  app_add->callback(with_store([&](store::MailStore& s) { return cli::app_password_add(s, address, label); }));
  app_pw->add_subcommand("list", "list an account's app passwords")
      ->callback(with_store([&](store::MailStore& s) { return cli::app_password_list(s, address); }))
      ->add_option("address", address)->required();
  auto* app_del = app_pw->add_subcommand("del", "revoke one app password");
  app_del->add_option("address", address)->required();
  app_del->add_option("id", app_id, "the id shown by list")->required();
  app_del->callback(with_store([&](store::MailStore& s) { return cli::app_password_del(s, address, app_id); }));

  auto* alias = app.add_subcommand("alias", "manage aliases (forwarding addresses)")->require_subcommand(1);
  auto* alias_add = alias->add_subcommand("add", "forward ALIAS to one or more local or remote TARGETs");
  alias_add->add_option("alias", address)->required();
  alias_add->add_option("targets", targets)->required();
  alias_add->callback(with_store([&](store::MailStore& s) { return cli::alias_add(s, address, targets); }));
  auto* alias_del = alias->add_subcommand("del", "remove TARGETs from ALIAS, or the whole alias");
  alias_del->add_option("alias", address)->required();
  alias_del->add_option("targets", targets);
  alias_del->callback(with_store([&](store::MailStore& s) { return cli::alias_del(s, address, targets); }));
  alias->add_subcommand("list", "list aliases")->callback(with_store([](store::MailStore& s) {
    return cli::alias_list(s);
  }));

  auto* message = app.add_subcommand("message", "read stored messages (read-only)")->require_subcommand(1);
  std::string mailbox_name = "INBOX";
  uint32_t uid = 0;
  auto* msg_list = message->add_subcommand(
      "list", "list a mailbox's messages, one per line: UID, size, flags, internal date (UTC), tab-separated");
  msg_list->add_option("address", address, "the account")->required();
  msg_list->add_option("-m,--mailbox", mailbox_name, "mailbox name")->default_val("INBOX");
  msg_list->callback(with_store([&](store::MailStore& s) { return cli::message_list(s, address, mailbox_name); }));
  auto* msg_show = message->add_subcommand("show", "write one message's stored bytes, exactly, to stdout");
  msg_show->add_option("address", address, "the account")->required();
  msg_show->add_option("uid", uid, "the message's UID (see tern message list)")->required();
  msg_show->add_option("-m,--mailbox", mailbox_name, "mailbox name")->default_val("INBOX");
  msg_show->callback(
      with_store([&](store::MailStore& s) { return cli::message_show(s, address, mailbox_name, uid); }));

  auto* queue = app.add_subcommand("queue", "the outbound queue (mail for other servers)")->require_subcommand(1);
  queue->add_subcommand("list", "list queued messages with their recipients, oldest first")
      ->callback(with_store([](store::MailStore& s) { return cli::queue_list(s); }));
  store::Id queue_id = 0;
  auto* queue_show = queue->add_subcommand("show", "show one queued message: its fields, recipients and header");
  queue_show->add_option("id", queue_id, "the entry's id (see tern queue list)")->required();
  queue_show->callback(with_store([&](store::MailStore& s) { return cli::queue_show(s, queue_id); }));
  auto* queue_del = queue->add_subcommand("delete", "remove a queued message without delivering it or bouncing");
  queue_del->alias("del");
  queue_del->add_option("id", queue_id, "the entry's id (see tern queue list)")->required();
  queue_del->callback(with_store([&](store::MailStore& s) { return cli::queue_del(s, queue_id); }));
  auto* queue_hold = queue->add_subcommand("hold", "keep a queued message from being tried until released");
  queue_hold->add_option("id", queue_id, "the entry's id (see tern queue list)")->required();
  queue_hold->callback(with_store([&](store::MailStore& s) { return cli::queue_hold(s, queue_id, true); }));
  auto* queue_release = queue->add_subcommand("release", "let a held message be tried again");
  queue_release->add_option("id", queue_id, "the entry's id (see tern queue list)")->required();
  queue_release->callback(with_store([&](store::MailStore& s) { return cli::queue_hold(s, queue_id, false); }));
  auto* queue_retry = queue->add_subcommand("retry", "try a queued message now instead of at its next attempt");
  queue_retry->add_option("id", queue_id, "the entry's id (see tern queue list)")->required();
  queue_retry->callback(with_store([&](store::MailStore& s) { return cli::queue_retry(s, queue_id); }));

  auto* store_cmd = app.add_subcommand("store", "whole-store tools")->require_subcommand(1);
  std::string copy_from, copy_to;
  auto* copy = store_cmd->add_subcommand(
      "copy", "copy everything from one configuration's store into another's, keeping UIDs (servers stopped)");
  copy->add_option("--from", copy_from, "configuration file of the source store")->required();
  copy->add_option("--to", copy_to, "configuration file of the destination store (new, or without those domains)")
      ->required();
  copy->callback(run([&] { return store_copy(copy_from, copy_to); }));

  for (auto* sub : app.get_subcommands({})) sub->fallthrough();
  CLI11_PARSE(app, argc, argv);
  return rc;
}
