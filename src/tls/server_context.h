// tls/server_context.h: the server's OpenSSL context (certificate, key, protocol policy),
// reloadable while connections are open.
//
// Policy: TLS 1.2 minimum, ECDHE/AEAD ciphers for TLS 1.2 (OpenSSL's defaults for 1.3), no
// compression, no renegotiation, session tickets on, SSL_MODE_RELEASE_BUFFERS.
// current() hands out the SSL_CTX for a new handshake; reload() builds a new SSL_CTX from
// the same files and swaps it in: later handshakes use it, existing connections keep the
// one they started with (an SSL holds a reference to its SSL_CTX).
// Thread-safety: all methods are thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <openssl/ssl.h>

#include "base/result.h"
#include "config/config.h"

namespace tern::tls {

class ServerContext {
 public:
  // Loads a PEM certificate chain and its PEM private key. Errors: kInvalid naming the
  // file when it cannot be read or the key does not match the certificate.
  static Result<std::shared_ptr<ServerContext>> load(std::string cert_file, std::string key_file);
  // From configuration: tls.cert_file/key_file, or when both are empty a self-signed
  // certificate for cfg.hostname under <data_dir>/tls/ (created on first start).
  static Result<std::shared_ptr<ServerContext>> from_config(const config::Config& cfg);

  // Rereads the files into a new SSL_CTX and swaps it in; on error the old one stays.
  Status reload();
  // The context for a new handshake; never null.
  std::shared_ptr<SSL_CTX> current() const;

  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }

  ServerContext(std::string cert_file, std::string key_file, std::shared_ptr<SSL_CTX> ctx)
      : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)), ctx_(std::move(ctx)) {}

 private:
  const std::string cert_file_;
  const std::string key_file_;
  mutable std::mutex mu_;
  std::shared_ptr<SSL_CTX> ctx_;  // guarded by mu_
};

// Builds a server SSL_CTX with the policy above from PEM files (exposed for tests).
Result<std::shared_ptr<SSL_CTX>> make_server_ctx(const std::string& cert_file,
                                                 const std::string& key_file);

// The last OpenSSL error queue entries as text, clearing the queue.
std::string openssl_errors();

}  // namespace tern::tls
