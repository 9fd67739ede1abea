#include "server/store_factory.h"

#include <filesystem>

#include "store/pg/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace tern::server {

Result<std::unique_ptr<store::MailStore>> open_store(const config::Config& cfg, store::ChangeFeed* feed) {
  if (cfg.store.backend == "postgres") {
    return store::open_pg_store({.url = cfg.store.postgres.url, .pool_size = cfg.store.postgres.pool_size,
                                 .listen = feed != nullptr},
                                feed);
  }
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "cannot create data directory {}: {}", cfg.data_dir, ec.message());
  }
  return store::open_sqlite_store({.path = cfg.data_dir + "/tern.db"}, feed);
}

}  // namespace tern::server
