#include "tls/server_context.h"

#include <filesystem>

#include <openssl/err.h>

#include "tls/self_signed.h"

namespace tern::tls {

namespace {

// TLS 1.2 suites: forward secrecy and AEAD only (TLS 1.3 suites are OpenSSL's defaults).
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

constexpr unsigned char kSessionIdContext[] = "tern";

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Result<std::shared_ptr<SSL_CTX>> make_server_ctx(const std::string& cert_file,
                                                 const std::string& key_file) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) {
    return make_error(ErrorCode::kInternal, "SSL_CTX_new: {}", openssl_errors());
  }
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(c, kCiphers12) != 1) {
    return make_error(ErrorCode::kInternal, "TLS policy: {}", openssl_errors());
  }
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                             SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                          SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_dh_auto(c, 1);
  SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  if (SSL_CTX_use_certificate_chain_file(c, cert_file.c_str()) != 1) {
    return make_error(ErrorCode::kInvalid, "cannot load certificate {}: {}", cert_file,
                      openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(c, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return make_error(ErrorCode::kInvalid, "cannot load private key {}: {}", key_file,
                      openssl_errors());
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return make_error(ErrorCode::kInvalid, "private key {} does not match certificate {}: {}",
                      key_file, cert_file, openssl_errors());
  }
  return ctx;
}

Result<std::shared_ptr<ServerContext>> ServerContext::load(std::string cert_file,
                                                          std::string key_file) {
  auto ctx = make_server_ctx(cert_file, key_file);
  if (!ctx) {
    return tl::unexpected(ctx.error());
  }
  return std::make_shared<ServerContext>(std::move(cert_file), std::move(key_file),
                                         std::move(*ctx));
}

Result<std::shared_ptr<ServerContext>> ServerContext::from_config(const config::Config& cfg) {
  if (cfg.tls.cert_file.empty() != cfg.tls.key_file.empty()) {
    return make_error(ErrorCode::kInvalid, "tls.cert_file and tls.key_file must be set together");
  }
  if (!cfg.tls.cert_file.empty()) {
    return load(cfg.tls.cert_file, cfg.tls.key_file);
  }
  auto dir = (std::filesystem::path(cfg.data_dir) / "tls").string();
  auto paths = ensure_self_signed(dir, cfg.hostname);
  if (!paths) {
    return tl::unexpected(paths.error());
  }
  return load(paths->cert_file, paths->key_file);
}

Status ServerContext::reload() {
  auto ctx = make_server_ctx(cert_file_, key_file_);
  if (!ctx) {
    return tl::unexpected(ctx.error());
  }
  std::lock_guard lock(mu_);
  ctx_ = std::move(*ctx);
  return ok();
}

std::shared_ptr<SSL_CTX> ServerContext::current() const {
  std::lock_guard lock(mu_);
  return ctx_;
}

}  // namespace tern::tls
