#include "tls/self_signed.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/test_util.h"

namespace tern::tls {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

X509* read_cert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    return nullptr;
  }
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return cert;
}

TEST(SelfSigned, CertificateNamesTheHostInSubjectAltName) {
  testing::TempDir dir;
  auto paths = ensure_self_signed(dir.str() + "/tls", "mail.example.test");
  ASSERT_TRUE(paths) << paths.error().to_string();
  X509* cert = read_cert(paths->cert_file);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert, "mail.example.test", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
                            nullptr),
            1);
  EXPECT_NE(X509_check_host(cert, "other.example.test", 0, 0, nullptr), 1);
  // Valid now and for years to come.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(cert)), 0);
  time_t in_nine_years = time(nullptr) + 9L * 365 * 24 * 3600;
  EXPECT_GT(X509_cmp_time(X509_get0_notAfter(cert), &in_nine_years), 0);
  X509_free(cert);
}

TEST(SelfSigned, KeyIsPrivateAndMatchesCertificate) {
  testing::TempDir dir;
  auto paths = ensure_self_signed(dir.str(), "localhost");
  ASSERT_TRUE(paths) << paths.error().to_string();
  struct stat st {};
  ASSERT_EQ(::stat(paths->key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  X509* cert = read_cert(paths->cert_file);
  ASSERT_NE(cert, nullptr);
  FILE* f = std::fopen(paths->key_file.c_str(), "r");
  ASSERT_NE(f, nullptr);
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert, key), 1);
  EVP_PKEY_free(key);
  X509_free(cert);
}

TEST(SelfSigned, ExistingFilesAreReused) {
  testing::TempDir dir;
  auto first = ensure_self_signed(dir.str(), "a.test");
  ASSERT_TRUE(first);
  std::string cert = slurp(first->cert_file);
  std::string key = slurp(first->key_file);
  auto second = ensure_self_signed(dir.str(), "a.test");
  ASSERT_TRUE(second);
  EXPECT_EQ(slurp(second->cert_file), cert);
  EXPECT_EQ(slurp(second->key_file), key);
}

TEST(SelfSigned, UnwritableDirectoryIsAnIoError) {
  testing::TempDir dir;
  std::ofstream(dir.str() + "/file") << "x";
  auto paths = ensure_self_signed(dir.str() + "/file/tls", "a.test");
  ASSERT_FALSE(paths);
  EXPECT_EQ(paths.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace tern::tls
