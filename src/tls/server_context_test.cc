#include "tls/server_context.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/self_signed.h"
#include "tls/test_util.h"

namespace tern::tls {
namespace {

namespace fs = std::filesystem;

bool ctx_serves(SSL_CTX* ctx, const char* host) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  return cert != nullptr && X509_check_host(cert, host, 0, 0, nullptr) == 1;
}

TEST(ServerContext, FromConfigGeneratesSelfSignedUnderDataDir) {
  testing::TempDir dir;
  config::Config cfg;
  cfg.hostname = "mx.example.test";
  cfg.data_dir = dir.str();
  auto ctx = ServerContext::from_config(cfg);
  ASSERT_TRUE(ctx) << ctx.error().to_string();
  EXPECT_TRUE(fs::exists(dir.path() / "tls" / "cert.pem"));
  EXPECT_TRUE(fs::exists(dir.path() / "tls" / "key.pem"));
  EXPECT_TRUE(ctx_serves((*ctx)->current().get(), "mx.example.test"));
  EXPECT_EQ(SSL_CTX_get_min_proto_version((*ctx)->current().get()), TLS1_2_VERSION);
}

TEST(ServerContext, ConfiguredFilesAreUsed) {
  testing::TempDir dir;
  auto paths = ensure_self_signed(dir.str(), "configured.test");
  ASSERT_TRUE(paths);
  config::Config cfg;
  cfg.data_dir = dir.str() + "/data";
  cfg.tls.cert_file = paths->cert_file;
  cfg.tls.key_file = paths->key_file;
  auto ctx = ServerContext::from_config(cfg);
  ASSERT_TRUE(ctx) << ctx.error().to_string();
  EXPECT_TRUE(ctx_serves((*ctx)->current().get(), "configured.test"));
  EXPECT_FALSE(fs::exists(dir.path() / "data" / "tls"));
}

TEST(ServerContext, MissingOrMismatchedFilesAreErrors) {
  testing::TempDir dir;
  auto a = ensure_self_signed(dir.str() + "/a", "a.test");
  auto b = ensure_self_signed(dir.str() + "/b", "b.test");
  ASSERT_TRUE(a && b);
  auto missing = ServerContext::load(dir.str() + "/nope.pem", a->key_file);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalid);
  auto mismatched = ServerContext::load(a->cert_file, b->key_file);
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().code, ErrorCode::kInvalid);

  config::Config cfg;
  cfg.tls.cert_file = a->cert_file;  // key_file left empty
  EXPECT_FALSE(ServerContext::from_config(cfg));
}

TEST(ServerContext, ReloadSwapsInTheNewCertificate) {
  testing::TempDir dir;
  auto first = ensure_self_signed(dir.str(), "old.test");
  ASSERT_TRUE(first);
  auto ctx = ServerContext::load(first->cert_file, first->key_file);
  ASSERT_TRUE(ctx);
  std::shared_ptr<SSL_CTX> before = (*ctx)->current();
  ASSERT_TRUE(ctx_serves(before.get(), "old.test"));

  // Replace the files the way an operator's renewal would.
  fs::remove(first->cert_file);
  fs::remove(first->key_file);
  ASSERT_TRUE(ensure_self_signed(dir.str(), "new.test"));
  auto st = (*ctx)->reload();
  ASSERT_TRUE(st) << st.error().to_string();

  EXPECT_TRUE(ctx_serves((*ctx)->current().get(), "new.test"));
  EXPECT_NE((*ctx)->current().get(), before.get());
  // Holders of the old context (open connections) keep a working one.
  EXPECT_TRUE(ctx_serves(before.get(), "old.test"));
}

TEST(ServerContext, FailedReloadKeepsTheCurrentCertificate) {
  testing::TempDir dir;
  auto paths = ensure_self_signed(dir.str(), "keep.test");
  ASSERT_TRUE(paths);
  auto ctx = ServerContext::load(paths->cert_file, paths->key_file);
  ASSERT_TRUE(ctx);
  std::ofstream(paths->cert_file, std::ios::trunc) << "not a certificate\n";
  EXPECT_FALSE((*ctx)->reload());
  EXPECT_TRUE(ctx_serves((*ctx)->current().get(), "keep.test"));
}

}  // namespace
}  // namespace tern::tls
