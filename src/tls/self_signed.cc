#include "tls/self_signed.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls/server_context.h"

namespace tern::tls {

namespace {

namespace fs = std::filesystem;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Free>;

constexpr long kValidDays = 3650;

Error ossl_error(std::string_view what) {
  return Error(ErrorCode::kInternal, fmt::format("{}: {}", what, openssl_errors()));
}

// Adds a v3 extension given in OpenSSL's config syntax (issuer = subject = cert).
bool add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

Result<Ptr<X509>> make_cert(EVP_PKEY* key, const std::string& hostname) {
  Ptr<X509> cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return tl::unexpected(ossl_error("X509_new"));
  }
  Ptr<BIGNUM> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    return tl::unexpected(ossl_error("serial"));
  }
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), kValidDays, 0, nullptr)) {
    return tl::unexpected(ossl_error("validity"));
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  // A CN is limited to 64 bytes; the SAN below carries the full name.
  std::string cn = hostname.substr(0, 64);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    return tl::unexpected(ossl_error("subject"));
  }
  // subjectAltName built from a GENERAL_NAME, so no hostname text is parsed as config.
  Ptr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  GENERAL_NAME* dns = GENERAL_NAME_new();
  ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
  if (!names || !dns || !ia5 ||
      ASN1_STRING_set(ia5, hostname.data(), static_cast<int>(hostname.size())) != 1) {
    GENERAL_NAME_free(dns);
    ASN1_IA5STRING_free(ia5);
    return tl::unexpected(ossl_error("subjectAltName"));
  }
  GENERAL_NAME_set0_value(dns, GEN_DNS, ia5);
  if (sk_GENERAL_NAME_push(names.get(), dns) == 0) {
    GENERAL_NAME_free(dns);
    return tl::unexpected(ossl_error("subjectAltName"));
  }
  if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) !=
          1 ||
      !add_ext(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_ext(cert.get(), NID_ext_key_usage, "serverAuth") ||
      !add_ext(cert.get(), NID_subject_key_identifier, "hash")) {
    return tl::unexpected(ossl_error("extensions"));
  }
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) {
    return tl::unexpected(ossl_error("X509_sign"));
  }
  return cert;
}

// Writes `data` to `path` via a temporary file and rename, created with `mode`.
Status write_file(const fs::path& path, std::string_view data, mode_t mode) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return make_error(ErrorCode::kIo, "cannot create {}: {}", tmp.string(), std::strerror(errno));
  }
  ::fchmod(fd, mode);  // O_CREAT's mode is subject to the umask and ignored for old files
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return make_error(ErrorCode::kIo, "cannot write {}: {}", tmp.string(), std::strerror(err));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return make_error(ErrorCode::kIo, "cannot write {}: {}", tmp.string(), std::strerror(errno));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "cannot rename {}: {}", tmp.string(), ec.message());
  }
  return ok();
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

Result<CertPaths> ensure_self_signed(const std::string& dir, const std::string& hostname) {
  CertPaths paths{(fs::path(dir) / "cert.pem").string(), (fs::path(dir) / "key.pem").string()};
  std::error_code ec;
  if (fs::exists(paths.cert_file, ec) && fs::exists(paths.key_file, ec)) {
    return paths;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "cannot create {}: {}", dir, ec.message());
  }
  Ptr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) {
    return tl::unexpected(ossl_error("EC key generation"));
  }
  auto cert = make_cert(key.get(), hostname);
  if (!cert) {
    return tl::unexpected(cert.error());
  }
  Ptr<BIO> key_bio(BIO_new(BIO_s_mem()));
  Ptr<BIO> cert_bio(BIO_new(BIO_s_mem()));
  if (!key_bio || !cert_bio ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1 ||
      PEM_write_bio_X509(cert_bio.get(), cert->get()) != 1) {
    return tl::unexpected(ossl_error("PEM encoding"));
  }
  // Key first: a cert.pem without its key is never left behind.
  if (auto st = write_file(paths.key_file, bio_text(key_bio.get()), 0600); !st) {
    return tl::unexpected(st.error());
  }
  if (auto st = write_file(paths.cert_file, bio_text(cert_bio.get()), 0644); !st) {
    return tl::unexpected(st.error());
  }
  return paths;
}

}  // namespace tern::tls
