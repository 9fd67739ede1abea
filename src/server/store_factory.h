// server/store_factory.h: opens the store backend the configuration names. The one place,
// with cli/, that knows the concrete backends (SQLite under data_dir, or PostgreSQL).
#pragma once

#include <memory>

#include "base/result.h"
#include "config/config.h"
#include "store/change_feed.h"
#include "store/mail_store.h"

namespace tern::server {

// Creates data_dir when needed (SQLite). `feed` may be null (admin commands); otherwise it
// must outlive the store and receives every committed change (and, on PostgreSQL, the
// changes other nodes commit).
Result<std::unique_ptr<store::MailStore>> open_store(const config::Config& cfg, store::ChangeFeed* feed);

}  // namespace tern::server
